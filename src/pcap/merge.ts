import { PcapReader, type ReaderOptions } from './reader.js';

/**
 * Several capture files read side by side in timestamp order (a k-way merge,
 * like mergecap), synchronously. `next()` returns the index of the reader
 * positioned on the earliest pending packet, or -1 when all are done. Each
 * reader keeps one buffer: memory does not grow with the files.
 */
export class MergedReaders {
  readonly readers: PcapReader[];
  private readonly valid: boolean[];
  private last = -1;
  private started = false;

  constructor(files: string[], options: ReaderOptions = {}) {
    this.readers = [];
    try {
      for (const f of files) this.readers.push(PcapReader.openFile(f, options));
    } catch (err) {
      this.close();
      throw err;
    }
    this.valid = files.map(() => false);
  }

  next(): number {
    const rs = this.readers;
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < rs.length; i++) this.valid[i] = this.advance(i);
    } else if (this.last >= 0) {
      this.valid[this.last] = this.advance(this.last);
    }
    let best = -1;
    let bs = 0;
    let bn = 0;
    for (let i = 0; i < rs.length; i++) {
      if (!this.valid[i]) continue;
      const r = rs[i]!;
      if (best < 0 || r.tsSec < bs || (r.tsSec === bs && r.tsNsec < bn)) {
        best = i;
        bs = r.tsSec;
        bn = r.tsNsec;
      }
    }
    this.last = best;
    return best;
  }

  private advance(i: number): boolean {
    const r = this.readers[i]!;
    if (r.next()) return true;
    r.end(true);
    return false;
  }

  close(): void {
    for (const r of this.readers) r.close();
  }
}
