/**
 * Counting distinct 64-bit fingerprints in bounded memory: exact (an
 * open-addressing table of 52 bits of each fingerprint, growing to at most
 * `maxExact` entries, 16 bytes per entry) and, beyond that, a HyperLogLog
 * estimate (2^14 registers, about 0.8 % standard error) kept from the start
 * so the switch loses nothing.
 */
export interface DistinctSnapshot {
  exact: boolean;
  n: number;
  keys: Float64Array;
  regs: Uint8Array;
}

export class DistinctCounter {
  /** Open addressing on one number per slot: 52 bits of the fingerprint + 1 (0 = empty). */
  private keys: Float64Array;
  private mask: number;
  private n = 0;
  private exactMode = true;
  private readonly regs = new Uint8Array(1 << 14);

  constructor(private readonly maxExact = 1 << 17) {
    // Sized once for maxExact at half load: growing by rehashing cost more than the
    // untouched pages of a large table (the kernel maps them on first use).
    const size = maxExact <= 0 ? 1 : 2 ** Math.ceil(Math.log2(maxExact * 2));
    this.keys = new Float64Array(size);
    this.mask = size - 1;
    if (maxExact === 0) this.exactMode = false;
  }

  get exact(): boolean {
    return this.exactMode;
  }

  /** Adds a decoded packet's fingerprint (fields read here: no number boxed per call). */
  addFingerprint(d: { fpHi: number; fpLo: number }): void {
    this.add(d.fpHi, d.fpLo);
  }

  add(hi: number, lo: number): void {
    // HyperLogLog: the top 14 bits pick a register, the next 32 bits give the rank.
    const idx = hi >>> 18;
    const w = ((hi << 14) | (lo >>> 18)) >>> 0;
    const rank = w === 0 ? 33 : Math.clz32(w) + 1;
    if (rank > this.regs[idx]!) this.regs[idx] = rank;
    if (!this.exactMode) return;
    const lo20 = lo >>> 12;
    const key = (hi >>> 0) * 1048576 + lo20 + 1;
    const K = this.keys;
    const mask = this.mask;
    let i = (hi ^ lo20) & mask;
    for (;;) {
      const k = K[i]!;
      if (k === 0) break;
      if (k === key) return;
      i = (i + 1) & mask;
    }
    K[i] = key;
    if (++this.n * 2 > mask + 1) this.grow();
  }

  /** What another thread needs to merge this counter into its own (the arrays can be transferred). */
  snapshot(): DistinctSnapshot {
    return { exact: this.exactMode, n: this.n, keys: this.keys, regs: this.regs };
  }

  /**
   * Adds another counter's fingerprints: the union, as if this counter had seen them all (the
   * HyperLogLog registers are a maximum, the exact keys are inserted one by one; the count stays
   * exact only while the union fits, as for one counter).
   */
  merge(o: DistinctSnapshot): void {
    for (let i = 0; i < this.regs.length; i++) if (o.regs[i]! > this.regs[i]!) this.regs[i] = o.regs[i]!;
    if (!this.exactMode) return;
    if (!o.exact) {
      this.exactMode = false;
      this.keys = new Float64Array(0);
      return;
    }
    for (let j = 0; j < o.keys.length && this.exactMode; j++) {
      const key = o.keys[j]!;
      if (key === 0) continue;
      const K = this.keys;
      const mask = this.mask;
      const hi = Math.floor((key - 1) / 1048576);
      let i = (hi ^ (key - 1 - hi * 1048576)) & mask;
      let found = false;
      for (;;) {
        const k = K[i]!;
        if (k === 0) break;
        if (k === key) {
          found = true;
          break;
        }
        i = (i + 1) & mask;
      }
      if (found) continue;
      K[i] = key;
      if (++this.n * 2 > mask + 1) this.grow();
    }
  }

  private grow(): void {
    if (this.n > this.maxExact) {
      this.exactMode = false;
      this.keys = new Float64Array(0);
      return;
    }
    const old = this.keys;
    const size = old.length * 2;
    const K = new Float64Array(size);
    const mask = size - 1;
    for (let j = 0; j < old.length; j++) {
      const k = old[j]!;
      if (k === 0) continue;
      const hi = Math.floor((k - 1) / 1048576);
      let i = (hi ^ (k - 1 - hi * 1048576)) & mask;
      while (K[i] !== 0) i = (i + 1) & mask;
      K[i] = k;
    }
    this.keys = K;
    this.mask = mask;
  }

  /** The exact count while exact, else the HyperLogLog estimate. */
  count(): number {
    if (this.exactMode) return this.n;
    const m = this.regs.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      sum += 2 ** -this.regs[i]!;
      if (this.regs[i] === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(e);
  }
}
