import { workerSource } from '../embedded.js';
import { Worker } from 'node:worker_threads';

/**
 * analyze's second pass on two threads: a worker reads and decodes every file
 * (the reader, decode(), the NAT-tolerant fingerprint, the target test) and
 * hands each file's packets over as records in shared memory; the main thread
 * merges the files' records in time order, as MergedReaders does with the
 * readers themselves, and runs the matcher and the correlator on them. Only
 * the target's packets carry their bytes (the correlator decodes them again).
 *
 * Each file has a ring of SLOTS batches. The worker fills the emptiest file
 * that is furthest behind in capture time and sleeps (Atomics.wait) when
 * every ring is full; the main thread sleeps on a file's ring when it needs
 * that file's next packet. Nothing is posted per batch: two counters per file.
 */

/** Doubles per record: seconds, nanoseconds, NAT fingerprint halves, hop, data offset (-1: none), caplen, wire length, link type. */
export const REC = 9;
export const BATCH = 4096;
export const SLOTS = 4;
/** Bytes of target packets per batch (a batch ends early when they would not fit). */
export const BATCH_BYTES = 256 << 10;
/**
 * Per file in the control words: batches written, batches read, state (0 running, 1 done, 2
 * failed), and a sequence number the worker bumps after each change (what the main thread sleeps
 * on). The last word: bumped by the main thread when it frees a slot (what the worker sleeps on).
 */
export const CTL = 4;
export const WRITTEN = 0;
export const READ = 1;
export const STATE = 2;
export const SEQ = 3;
const ERROR_BYTES = 8192;

export interface DecodeAheadTask {
  files: string[];
  /** `${file}:${section}:${interface id}` → hop position (-1: not on the path). */
  hops: Array<[string, number]>;
  /** The target as an IPv4 number, or -1; whether it is IPv6. */
  t4: number;
  isV6: boolean;
  shared: SharedBuffers;
}

export interface SharedBuffers {
  ctl: SharedArrayBuffer;
  /** Per file and slot: [records, bytes used]. */
  meta: SharedArrayBuffer;
  recs: SharedArrayBuffer[];
  bytes: SharedArrayBuffer[];
  error: SharedArrayBuffer;
}

/** What the worker reports when a file fails (written into the shared error area). */
export interface AheadError {
  file: number;
  format?: { offset: number; reason: string; source: string };
  message?: string;
  code?: string;
}

export function allocate(files: number): SharedBuffers {
  return {
    ctl: new SharedArrayBuffer(4 * (files * CTL + 1)),
    meta: new SharedArrayBuffer(4 * files * SLOTS * 2),
    recs: Array.from({ length: files }, () => new SharedArrayBuffer(8 * REC * BATCH * SLOTS)),
    bytes: Array.from({ length: files }, () => new SharedArrayBuffer(BATCH_BYTES * SLOTS)),
    error: new SharedArrayBuffer(ERROR_BYTES + 4),
  };
}

export function writeError(shared: SharedBuffers, e: AheadError): void {
  const text = Buffer.from(JSON.stringify(e)).subarray(0, ERROR_BYTES);
  const len = new Int32Array(shared.error, 0, 1);
  new Uint8Array(shared.error, 4).set(text);
  len[0] = text.length;
}

function readError(shared: SharedBuffers): AheadError {
  const len = new Int32Array(shared.error, 0, 1)[0]!;
  return JSON.parse(Buffer.from(new Uint8Array(shared.error, 4, len)).toString()) as AheadError;
}

/** Thrown for a file the worker could not read; the caller turns it into its usual error. */
export class AheadFailure extends Error {
  constructor(readonly detail: AheadError) {
    super(
      detail.format ? `${detail.format.source}: ${detail.format.reason}` : (detail.message ?? 'decode worker failed'),
    );
  }
}

/**
 * The main thread's side: the files' records merged in time order. `next()`
 * positions `recs`/`at` on the next record (its fields: see REC) and returns
 * its file index, or -1 at the end.
 */
export class DecodedMerge {
  private readonly worker: Worker;
  private readonly shared: SharedBuffers;
  private readonly ctl: Int32Array;
  private readonly meta: Int32Array;
  private readonly recs: Float64Array[];
  readonly bytes: Uint8Array[];
  /** Per file: slot in use, records in it, index of the current record (-1: none yet). */
  private readonly slot: Int32Array;
  private readonly count: Int32Array;
  private readonly idx: Int32Array;
  private readonly live: Uint8Array;
  /** Per file: capture time of its current record (what the merge compares), and where it is. */
  private readonly headSec: Float64Array;
  private readonly headNsec: Float64Array;
  private readonly headAt: Float64Array;
  private last = -1;
  private started = false;
  private exited = false;
  /** The current record: its file's records and the offset of its first field. */
  cur: Float64Array = new Float64Array(0);
  at = 0;

  constructor(task: Omit<DecodeAheadTask, 'shared'>) {
    const n = task.files.length;
    const shared = allocate(n);
    this.ctl = new Int32Array(shared.ctl);
    this.meta = new Int32Array(shared.meta);
    this.recs = shared.recs.map((b) => new Float64Array(b));
    this.bytes = shared.bytes.map((b) => new Uint8Array(b));
    this.slot = new Int32Array(n).fill(-1);
    this.count = new Int32Array(n);
    this.idx = new Int32Array(n);
    this.live = new Uint8Array(n);
    this.headSec = new Float64Array(n);
    this.headNsec = new Float64Array(n);
    this.headAt = new Float64Array(n);
    this.shared = shared;
    const { source, eval: isCode } = workerSource(new URL('./decode-worker.js', import.meta.url));
    this.worker = new Worker(source, {
      eval: isCode,
      workerData: { ...task, shared } satisfies DecodeAheadTask,
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.worker.once('exit', () => (this.exited = true));
  }

  /** Moves file f to its next record; false when the file has no more. Throws AheadFailure for a broken file. */
  private advance(f: number): boolean {
    if (this.slot[f]! >= 0 && this.idx[f]! + 1 < this.count[f]!) {
      this.idx[f]!++;
      this.head(f);
      return true;
    }
    const ctl = this.ctl;
    const c = f * CTL;
    if (this.slot[f]! >= 0) {
      this.release(c);
      this.slot[f] = -1;
    }
    for (;;) {
      const seq = Atomics.load(ctl, c + SEQ);
      const read = Atomics.load(ctl, c + READ);
      const written = Atomics.load(ctl, c + WRITTEN);
      if (written > read) {
        const s = read % SLOTS;
        const n = this.meta[(f * SLOTS + s) * 2]!;
        this.slot[f] = s;
        this.count[f] = n;
        this.idx[f] = 0;
        if (n > 0) {
          this.head(f);
          return true;
        }
        // An empty batch (the last one of a file): give it back and look again.
        this.release(c);
        this.slot[f] = -1;
        continue;
      }
      const state = Atomics.load(ctl, c + STATE);
      if (state === 1 && Atomics.load(ctl, c + WRITTEN) === read) return false;
      if (state === 2 && Atomics.load(ctl, c + WRITTEN) === read) throw new AheadFailure(readError(this.shared));
      if (this.exited && state === 0) throw new AheadFailure({ file: f, message: 'the decode worker stopped' });
      Atomics.wait(ctl, c + SEQ, seq, 1000);
    }
  }

  private head(f: number): void {
    const at = (this.slot[f]! * BATCH + this.idx[f]!) * REC;
    const R = this.recs[f]!;
    this.headAt[f] = at;
    this.headSec[f] = R[at]!;
    this.headNsec[f] = R[at + 1]!;
  }

  /** Done with a batch: give its slot back and wake the worker if it waits for room. */
  private release(c: number): void {
    const ctl = this.ctl;
    Atomics.add(ctl, c + READ, 1);
    Atomics.add(ctl, ctl.length - 1, 1);
    Atomics.notify(ctl, ctl.length - 1);
  }

  /** The file of the earliest pending record (ties: the lowest file index), or -1 when all are read. */
  next(): number {
    const n = this.live.length;
    if (!this.started) {
      this.started = true;
      for (let f = 0; f < n; f++) this.live[f] = this.advance(f) ? 1 : 0;
    } else if (this.last >= 0) {
      this.live[this.last] = this.advance(this.last) ? 1 : 0;
    }
    let best = -1;
    let bs = 0;
    let bn = 0;
    const live = this.live;
    const hs = this.headSec;
    const hn = this.headNsec;
    for (let f = 0; f < n; f++) {
      if (live[f] === 0) continue;
      const s = hs[f]!;
      const ns = hn[f]!;
      if (best < 0 || s < bs || (s === bs && ns < bn)) {
        best = f;
        bs = s;
        bn = ns;
      }
    }
    this.last = best;
    if (best >= 0) {
      this.cur = this.recs[best]!;
      this.at = this.headAt[best]!;
    }
    return best;
  }

  /** The current record's bytes (a target packet), valid until next(). */
  data(f: number): Uint8Array {
    const off = this.cur[this.at + 5]!;
    const len = this.cur[this.at + 6]!;
    return this.bytes[f]!.subarray(off, off + len);
  }

  close(): void {
    void this.worker.terminate();
  }
}
