/**
 * The correlation core: the same packet (by fingerprint) seen at several
 * hops, in time order, in bounded memory. A packet's journey is open from
 * its first sighting until the capture clock is `windowNs` past it; then it
 * is settled into counts and forgotten. Open journeys live in an
 * open-addressing table (typed arrays, linear probing, backward-shift
 * deletion) and a FIFO of first sightings that drives settling, so memory
 * is proportional to the packets of one window, not to the captures.
 *
 * What it reports, per journey: which hops saw it (a bit mask), which hop
 * saw it first, and whether a hop saw it twice (a duplicate).
 */

export interface MatchResult {
  /** Packets fed, per hop. */
  perHop: number[];
  /** Distinct journeys (packets), settled. */
  journeys: number;
  /** Sightings of a packet a second time at the same hop within the window. */
  duplicates: number;
  /** Journeys by the set of hops that saw them (bit mask → count). */
  patterns: Map<number, number>;
  /** Journeys by first hop and mask: key = first * 2^32 + mask (for direction). */
  firstAndMask: Map<number, number>;
  /** Most journeys open at once (the memory bound in practice). */
  peakOpen: number;
}

export interface Segment {
  /** Position (in the given order) of the last hop that saw the packets, and of the first that did not. */
  lastSeen: number;
  firstMissing: number;
  direction: 'forward' | 'reverse';
  packets: number;
}

export class HopMatcher {
  private keyHi: Uint32Array;
  private keyLo: Uint32Array;
  private maskOf: Uint32Array;
  private firstHop: Uint8Array;
  private used: Uint8Array;
  private cap: number;
  private size = 0;
  // FIFO of open journeys by first sighting: key halves and time.
  private qHi: Uint32Array;
  private qLo: Uint32Array;
  private qT: Float64Array;
  private qHead = 0;
  private qLen = 0;
  private readonly windowS: number;
  private base = -1;
  private readonly perHop: number[];
  private readonly patterns = new Map<number, number>();
  private readonly firstAndMask = new Map<number, number>();
  private journeys = 0;
  private duplicates = 0;
  private peakOpen = 0;

  constructor(
    readonly hops: number,
    windowNs: number,
    initialCapacity = 1 << 16,
  ) {
    if (hops > 32) throw new Error('HopMatcher: at most 32 hops');
    this.windowS = windowNs / 1e9;
    this.perHop = new Array<number>(hops).fill(0);
    this.cap = pow2(initialCapacity * 2);
    this.keyHi = new Uint32Array(this.cap);
    this.keyLo = new Uint32Array(this.cap);
    this.maskOf = new Uint32Array(this.cap);
    this.firstHop = new Uint8Array(this.cap);
    this.used = new Uint8Array(this.cap);
    this.qHi = new Uint32Array(initialCapacity);
    this.qLo = new Uint32Array(initialCapacity);
    this.qT = new Float64Array(initialCapacity);
  }

  /** One sighting: hop index, capture time, fingerprint halves. Sightings must come in time order. */
  add(hop: number, tsSec: number, tsNsec: number, hi: number, lo: number): void {
    if (this.base < 0) this.base = tsSec;
    const t = tsSec - this.base + tsNsec / 1e9;
    this.perHop[hop]!++;
    // Settle what the window has passed.
    const limit = t - this.windowS;
    while (this.qLen > 0 && this.qT[this.qHead]! < limit) this.settleHead();
    const bit = 1 << hop;
    const capMask = this.cap - 1;
    let i = (Math.imul(lo, 0x9e3779b1) ^ hi) & capMask;
    const U = this.used;
    const H = this.keyHi;
    const L = this.keyLo;
    for (;;) {
      if (U[i] === 0) break;
      if (H[i] === hi && L[i] === lo) {
        const m = this.maskOf[i]!;
        if (m & bit) this.duplicates++;
        else this.maskOf[i] = m | bit;
        return;
      }
      i = (i + 1) & capMask;
    }
    U[i] = 1;
    H[i] = hi;
    L[i] = lo;
    this.maskOf[i] = bit;
    this.firstHop[i] = hop;
    this.size++;
    this.push(hi, lo, t);
    if (this.size > this.peakOpen) this.peakOpen = this.size;
    if (this.size * 2 > this.cap) this.grow();
  }

  private push(hi: number, lo: number, t: number): void {
    if (this.qLen === this.qHi.length) {
      const n = this.qHi.length * 2;
      const h = new Uint32Array(n);
      const l = new Uint32Array(n);
      const tt = new Float64Array(n);
      for (let k = 0; k < this.qLen; k++) {
        const j = (this.qHead + k) % this.qHi.length;
        h[k] = this.qHi[j]!;
        l[k] = this.qLo[j]!;
        tt[k] = this.qT[j]!;
      }
      this.qHi = h;
      this.qLo = l;
      this.qT = tt;
      this.qHead = 0;
    }
    const j = (this.qHead + this.qLen) % this.qHi.length;
    this.qHi[j] = hi;
    this.qLo[j] = lo;
    this.qT[j] = t;
    this.qLen++;
  }

  private settleHead(): void {
    const j = this.qHead;
    const hi = this.qHi[j]!;
    const lo = this.qLo[j]!;
    this.qHead = (j + 1) % this.qHi.length;
    this.qLen--;
    const capMask = this.cap - 1;
    let i = (Math.imul(lo, 0x9e3779b1) ^ hi) & capMask;
    while (this.used[i] !== 0 && !(this.keyHi[i] === hi && this.keyLo[i] === lo)) i = (i + 1) & capMask;
    if (this.used[i] === 0) return;
    this.count(this.maskOf[i]!, this.firstHop[i]!);
    this.remove(i);
  }

  private count(mask: number, first: number): void {
    this.journeys++;
    this.patterns.set(mask, (this.patterns.get(mask) ?? 0) + 1);
    const k = first * 4294967296 + (mask >>> 0);
    this.firstAndMask.set(k, (this.firstAndMask.get(k) ?? 0) + 1);
  }

  /** Backward-shift deletion: later entries of the probe run move up, no tombstones. */
  private remove(i: number): void {
    const capMask = this.cap - 1;
    const U = this.used;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & capMask;
      if (U[j] === 0) break;
      const home = (Math.imul(this.keyLo[j]!, 0x9e3779b1) ^ this.keyHi[j]!) & capMask;
      // Move j into the hole if its home is not in (hole, j] cyclically.
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      this.keyHi[hole] = this.keyHi[j]!;
      this.keyLo[hole] = this.keyLo[j]!;
      this.maskOf[hole] = this.maskOf[j]!;
      this.firstHop[hole] = this.firstHop[j]!;
      hole = j;
    }
    U[hole] = 0;
    this.size--;
  }

  private grow(): void {
    const oh = this.keyHi;
    const ol = this.keyLo;
    const om = this.maskOf;
    const of = this.firstHop;
    const ou = this.used;
    this.cap *= 2;
    const capMask = this.cap - 1;
    this.keyHi = new Uint32Array(this.cap);
    this.keyLo = new Uint32Array(this.cap);
    this.maskOf = new Uint32Array(this.cap);
    this.firstHop = new Uint8Array(this.cap);
    this.used = new Uint8Array(this.cap);
    for (let k = 0; k < ou.length; k++) {
      if (ou[k] === 0) continue;
      let i = (Math.imul(ol[k]!, 0x9e3779b1) ^ oh[k]!) & capMask;
      while (this.used[i] !== 0) i = (i + 1) & capMask;
      this.used[i] = 1;
      this.keyHi[i] = oh[k]!;
      this.keyLo[i] = ol[k]!;
      this.maskOf[i] = om[k]!;
      this.firstHop[i] = of[k]!;
    }
  }

  finish(): MatchResult {
    while (this.qLen > 0) this.settleHead();
    return {
      perHop: [...this.perHop],
      journeys: this.journeys,
      duplicates: this.duplicates,
      patterns: this.patterns,
      firstAndMask: this.firstAndMask,
      peakOpen: this.peakOpen,
    };
  }
}

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Where journeys stop along an ordered path: a journey goes forward when its
 * first sighting is at its lowest position, reverse when at its highest;
 * walking from there, the first hop of the path that did not see it ends
 * it. Journeys that crossed every hop from their first on are complete.
 */
export function segments(result: MatchResult, order: number[]): { complete: number; segments: Segment[] } {
  const pos = new Map(order.map((h, i) => [h, i]));
  const counts = new Map<string, Segment>();
  let complete = 0;
  for (const [key, n] of result.firstAndMask) {
    const first = Math.floor(key / 4294967296);
    const mask = key - first * 4294967296;
    const p0 = pos.get(first);
    if (p0 === undefined) continue;
    let lo = Infinity;
    let hi = -1;
    for (let h = 0; h < 32; h++) {
      if (!(mask & (1 << h))) continue;
      const p = pos.get(h);
      if (p === undefined) continue;
      lo = Math.min(lo, p);
      hi = Math.max(hi, p);
    }
    // One hop only: at the far end it is the target's packet going back.
    const reverse = lo === hi ? p0 === order.length - 1 && order.length > 1 : p0 === hi;
    const step = reverse ? -1 : 1;
    let p = p0;
    while (p + step >= 0 && p + step < order.length && mask & (1 << order[p + step]!)) p += step;
    if (p + step < 0 || p + step >= order.length) {
      complete += n;
      continue;
    }
    const k = `${reverse ? 'r' : 'f'}:${p}`;
    const s = counts.get(k) ?? { lastSeen: p, firstMissing: p + step, direction: reverse ? 'reverse' : 'forward', packets: 0 };
    s.packets += n;
    counts.set(k, s);
  }
  return { complete, segments: [...counts.values()].sort((a, b) => b.packets - a.packets) };
}
