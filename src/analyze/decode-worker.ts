// analyze's decoding thread: every file read, decoded and fingerprinted into shared batches (decode-ahead.ts).
import { workerData } from 'node:worker_threads';
import { Decoded, PcapFormatError, PcapReader, type PcapInterface } from '../pcap/index.js';
import {
  BATCH,
  BATCH_BYTES,
  CTL,
  READ,
  REC,
  SEQ,
  SLOTS,
  STATE,
  WRITTEN,
  writeError,
  type DecodeAheadTask,
} from './decode-ahead.js';
import { matchKey } from './target.js';

const task = workerData as DecodeAheadTask;
const n = task.files.length;
const ctl = new Int32Array(task.shared.ctl);
const meta = new Int32Array(task.shared.meta);
const recs = task.shared.recs.map((b) => new Float64Array(b));
const bytes = task.shared.bytes.map((b) => new Uint8Array(b));
const hopOf = new Map(task.hops);
const GLOBAL = ctl.length - 1;

const readers: Array<PcapReader | undefined> = [];
const done = new Uint8Array(n);
/** A record read but not yet written (its batch was full of bytes): written first next time. */
const held = new Uint8Array(n);
const lastSec = new Float64Array(n);
const lastIface: Array<PcapInterface | undefined> = Array.from({ length: n }, () => undefined);
const lastHop = new Int32Array(n).fill(-1);
const d = new Decoded();

function fail(f: number, err: unknown): void {
  const code = (err as NodeJS.ErrnoException).code;
  writeError(
    task.shared,
    err instanceof PcapFormatError
      ? { file: f, format: { offset: err.offset, reason: err.reason, source: err.source } }
      : {
          file: f,
          message: err instanceof Error ? err.message : String(err),
          ...(code ? { code } : {}),
        },
  );
}

/** Fills the file's next slot; at the file's end (clean or not) marks it done in its state word. */
function fill(f: number): void {
  const c = f * CTL;
  const s = Atomics.load(ctl, c + WRITTEN) % SLOTS;
  const R = recs[f]!;
  const B = bytes[f]!;
  const base = s * BATCH * REC;
  const bbase = s * BATCH_BYTES;
  let cnt = 0;
  let used = 0;
  let state = 0;
  try {
    let r = readers[f];
    if (!r) r = readers[f] = PcapReader.openFile(task.files[f]!);
    while (cnt < BATCH) {
      if (held[f]) held[f] = 0;
      else if (!r.next()) {
        r.end(true);
        state = 1;
        break;
      }
      const iface = r.interfaces[r.ifId]!;
      if (iface !== lastIface[f]) {
        lastIface[f] = iface;
        lastHop[f] = hopOf.get(`${f}:${iface.section}:${iface.id}`) ?? -1;
      }
      const hop = lastHop[f]!;
      const at = base + cnt * REC;
      if (hop >= 0) {
        if (matchKey(r.buf, r.dataOff, r.caplen, r.linkType, d, task.t4, task.isV6)) {
          const len = r.caplen;
          if (used + len > BATCH_BYTES) {
            held[f] = 1;
            break;
          }
          B.set(r.buf.subarray(r.dataOff, r.dataOff + len), bbase + used);
          R[at + 5] = bbase + used;
          R[at + 6] = len;
          R[at + 7] = r.origLen;
          R[at + 8] = r.linkType;
          used += len;
        } else R[at + 5] = -1;
        R[at + 2] = d.natHi;
        R[at + 3] = d.natLo;
      } else R[at + 5] = -1;
      R[at] = r.tsSec;
      R[at + 1] = r.tsNsec;
      R[at + 4] = hop;
      cnt++;
    }
  } catch (err) {
    fail(f, err);
    state = 2;
  }
  meta[(f * SLOTS + s) * 2] = cnt;
  meta[(f * SLOTS + s) * 2 + 1] = used;
  if (cnt > 0) lastSec[f] = R[base + (cnt - 1) * REC]!;
  Atomics.add(ctl, c + WRITTEN, 1);
  if (state !== 0) {
    done[f] = 1;
    readers[f]?.close();
    Atomics.store(ctl, c + STATE, state);
  }
  Atomics.add(ctl, c + SEQ, 1);
  Atomics.notify(ctl, c + SEQ);
}

for (;;) {
  const g = Atomics.load(ctl, GLOBAL);
  // The file furthest behind in capture time among those with a free slot.
  let pick = -1;
  let live = 0;
  for (let f = 0; f < n; f++) {
    if (done[f]) continue;
    live++;
    const c = f * CTL;
    if (Atomics.load(ctl, c + WRITTEN) - Atomics.load(ctl, c + READ) >= SLOTS) continue;
    if (pick < 0 || lastSec[f]! < lastSec[pick]!) pick = f;
  }
  if (live === 0) break;
  if (pick < 0) {
    Atomics.wait(ctl, GLOBAL, g, 1000);
    continue;
  }
  fill(pick);
}
