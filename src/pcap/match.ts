/**
 * The correlation core: the same packet (by fingerprint) seen at several
 * hops, in time order, in bounded memory. A packet's journey is open from
 * its first sighting until the capture clock is one to two windows past it;
 * then it is settled into counts and forgotten. Open journeys live in two
 * generations of open-addressing tables (typed arrays, linear probing), so
 * memory is proportional to the packets of two windows, not to the captures.
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
  /**
   * Open journeys in two generations of open-addressing tables, 4 ints per
   * slot so that one probe touches one cache line: fingerprint high, low,
   * hop mask, first hop + 1 (0 = empty). New journeys go into `cur`; when
   * the capture clock passes the end of a window, `prev` is settled by one
   * sequential scan and emptied, and the generations swap. A journey is thus
   * settled between one and two windows after its first sighting, and no
   * per-journey deletion or queue is needed.
   */
  private cur: Int32Array;
  private prev: Int32Array;
  private curCap: number;
  private prevCap: number;
  private curSize = 0;
  private prevSize = 0;
  /**
   * One bit per fingerprint of each generation (2^21 bits, 256 KiB, stays in cache): a new
   * journey skips probing the previous generation's table, a cache miss, when its bit there
   * is clear — which it is for most new packets.
   */
  private curBits = new Int32Array(1 << 16);
  private prevBits = new Int32Array(1 << 16);
  private readonly windowS: number;
  private base = -1;
  private windowEnd = 0;
  private readonly perHop: number[];
  /** Settled journeys by first hop and mask: index first * 2^hops + mask when small, else a Map. */
  private readonly counts: Float64Array | undefined;
  private readonly countMap = new Map<number, number>();
  private journeys = 0;
  private duplicates = 0;
  private peakOpen = 0;
  private readonly per: number;

  constructor(
    readonly hops: number,
    windowNs: number,
    initialCapacity = 1 << 16,
  ) {
    if (hops > 32) throw new Error('HopMatcher: at most 32 hops');
    this.per = hops <= 12 ? 1 << hops : 0;
    this.windowS = windowNs / 1e9;
    this.perHop = new Array<number>(hops).fill(0);
    this.curCap = this.prevCap = pow2(initialCapacity * 2);
    this.cur = new Int32Array(this.curCap * 4);
    this.prev = new Int32Array(this.prevCap * 4);
    this.counts = hops <= 12 ? new Float64Array(hops * 2 ** hops) : undefined;
  }

  // The sighting being added, passed through fields: numbers beyond the small-integer
  // range passed as arguments to a call that is not inlined are boxed, one allocation each.
  private inSec = 0;
  private inNsec = 0;
  private inHi = 0;
  private inLo = 0;

  /** One sighting: hop index, capture time, fingerprint halves. Sightings must come in time order. */
  add(hop: number, tsSec: number, tsNsec: number, hi: number, lo: number): void {
    this.inSec = tsSec;
    this.inNsec = tsNsec;
    this.inHi = hi;
    this.inLo = lo;
    this.sighting(hop);
  }

  /** The same from a reader and a decoded packet (its NAT-tolerant fingerprint), allocation-free. */
  addPacket(hop: number, r: { tsSec: number; tsNsec: number }, d: { natHi: number; natLo: number }): void {
    this.inSec = r.tsSec;
    this.inNsec = r.tsNsec;
    this.inHi = d.natHi;
    this.inLo = d.natLo;
    this.sighting(hop);
  }

  /** The same from a record of doubles: seconds, nanoseconds, NAT fingerprint halves at at..at+3. */
  addRecord(hop: number, R: Float64Array, at: number): void {
    this.inSec = R[at]!;
    this.inNsec = R[at + 1]!;
    this.inHi = R[at + 2]!;
    this.inLo = R[at + 3]!;
    this.sighting(hop);
  }

  private sighting(hop: number): void {
    const tsSec = this.inSec;
    const tsNsec = this.inNsec;
    const hi = this.inHi | 0;
    const lo = this.inLo | 0;
    if (this.base < 0) {
      this.base = tsSec;
      this.windowEnd = this.windowS;
    }
    const t = tsSec - this.base + tsNsec / 1e9;
    this.perHop[hop]!++;
    if (t >= this.windowEnd) this.rotate(t);
    const bit = 1 << hop;
    const h0 = Math.imul(lo, 0x9e3779b1) ^ hi;
    // The current generation, then the previous one.
    const T = this.cur;
    const capMask = this.curCap - 1;
    let i = h0 & capMask;
    for (;;) {
      const at = i << 2;
      if (T[at + 3] === 0) break;
      if (T[at] === hi && T[at + 1] === lo) {
        const m = T[at + 2]!;
        if (m & bit) this.duplicates++;
        else T[at + 2] = m | bit;
        return;
      }
      i = (i + 1) & capMask;
    }
    const free = i;
    const bitIdx = Math.imul(hi ^ lo, 0x85ebca6b) >>> 11;
    const word = bitIdx >>> 5;
    const mask1 = 1 << (bitIdx & 31);
    if (this.prevSize > 0 && (this.prevBits[word]! & mask1) !== 0) {
      const P = this.prev;
      const pm = this.prevCap - 1;
      let j = h0 & pm;
      for (;;) {
        const at = j << 2;
        if (P[at + 3] === 0) break;
        if (P[at] === hi && P[at + 1] === lo) {
          const m = P[at + 2]!;
          if (m & bit) this.duplicates++;
          else P[at + 2] = m | bit;
          return;
        }
        j = (j + 1) & pm;
      }
    }
    const at = free << 2;
    T[at] = hi;
    T[at + 1] = lo;
    T[at + 2] = bit;
    T[at + 3] = hop + 1;
    this.curBits[word]! |= mask1;
    this.curSize++;
    if (this.curSize * 2 > this.curCap) this.grow();
  }

  /** The clock passed the end of a window: settle the previous generation, swap. */
  private rotate(t: number): void {
    if (this.curSize + this.prevSize > this.peakOpen) this.peakOpen = this.curSize + this.prevSize;
    this.settleAll(this.prev);
    this.prevSize = 0;
    // A gap of more than a window: the current generation is old enough too.
    const gap = t >= this.windowEnd + this.windowS;
    if (gap) {
      this.settleAll(this.cur);
      this.curSize = 0;
    }
    const bits = this.prevBits;
    bits.fill(0);
    this.prevBits = this.curBits;
    this.curBits = bits;
    if (gap) this.prevBits.fill(0);
    const old = this.prev;
    const oldCap = this.prevCap;
    this.prev = this.cur;
    this.prevCap = this.curCap;
    this.prevSize = this.curSize;
    this.cur = old;
    this.curCap = oldCap;
    this.curSize = 0;
    this.windowEnd = t + this.windowS;
  }

  private settleAll(T: Int32Array): void {
    for (let at = 0; at < T.length; at += 4) {
      const f = T[at + 3]!;
      if (f === 0) continue;
      this.count(T[at + 2]! >>> 0, f - 1);
      T[at + 3] = 0;
    }
  }

  private count(mask: number, first: number): void {
    this.journeys++;
    if (this.counts) this.counts[first * this.per + mask]!++;
    else {
      const k = first * 4294967296 + mask;
      this.countMap.set(k, (this.countMap.get(k) ?? 0) + 1);
    }
  }

  private grow(): void {
    const old = this.cur;
    this.curCap *= 2;
    const capMask = this.curCap - 1;
    const T = new Int32Array(this.curCap * 4);
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 3] === 0) continue;
      let i = (Math.imul(old[at + 1]!, 0x9e3779b1) ^ old[at]!) & capMask;
      while (T[(i << 2) + 3] !== 0) i = (i + 1) & capMask;
      const n = i << 2;
      T[n] = old[at]!;
      T[n + 1] = old[at + 1]!;
      T[n + 2] = old[at + 2]!;
      T[n + 3] = old[at + 3]!;
    }
    this.cur = T;
  }

  finish(): MatchResult {
    if (this.curSize + this.prevSize > this.peakOpen) this.peakOpen = this.curSize + this.prevSize;
    this.settleAll(this.prev);
    this.settleAll(this.cur);
    this.prevSize = this.curSize = 0;
    const patterns = new Map<number, number>();
    const firstAndMask = new Map<number, number>();
    const add = (first: number, mask: number, n: number) => {
      patterns.set(mask, (patterns.get(mask) ?? 0) + n);
      const k = first * 4294967296 + mask;
      firstAndMask.set(k, (firstAndMask.get(k) ?? 0) + n);
    };
    if (this.counts) {
      const per = 2 ** this.hops;
      this.counts.forEach((n, idx) => {
        if (n > 0) add(Math.floor(idx / per), idx % per, n);
      });
    } else {
      for (const [k, n] of this.countMap) add(Math.floor(k / 4294967296), k % 4294967296, n);
    }
    return {
      perHop: [...this.perHop],
      journeys: this.journeys,
      duplicates: this.duplicates,
      patterns,
      firstAndMask,
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
    const s = counts.get(k) ?? {
      lastSeen: p,
      firstMissing: p + step,
      direction: reverse ? 'reverse' : 'forward',
      packets: 0,
    };
    s.packets += n;
    counts.set(k, s);
  }
  return { complete, segments: [...counts.values()].sort((a, b) => b.packets - a.packets) };
}
