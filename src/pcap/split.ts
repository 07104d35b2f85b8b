import { readSync } from 'node:fs';
import {
  BLOCK_DSB,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_NRB,
  BLOCK_PB,
  BLOCK_SPB,
  MAX_PACKET,
  MAX_RECORD,
  PCAPNG_SHB,
  type ReaderState,
} from './reader.js';

/**
 * Finding a record boundary in the middle of a capture file, so that another
 * thread can read from there (parallel.ts). A guess, checked twice: here, by
 * a chain of plausible records after the candidate; and by the caller, who
 * accepts the guess only if the reader of the preceding part, parsing
 * normally, stops exactly there. A wrong guess therefore costs time (that
 * part is read again sequentially), never a wrong result.
 */

/** Records that must follow a candidate plausibly (or reach the end of the file exactly). */
const CHAIN = 8;
/**
 * Bytes examined from the split point: a candidate must appear in the first half. A small window
 * first (every chunk pays for it), the large one (room for 8 records of the largest size) only
 * when the small one told nothing.
 */
const WINDOWS = [256 << 10, 4 << 20];
/** Classic pcap: a record's seconds within this of the first packet's (ten years). */
const SECONDS_BAND = 10 * 366 * 86400;
/** Wire lengths beyond this are not a record header (BIG TCP aggregates stay well below). */
const MAX_WIRE = 1 << 20;

/** The offset of the first record at or after `from` (and before `to`), or -1 if none could be told. */
export function findRecordStart(
  fd: number,
  fileSize: number,
  from: number,
  to: number,
  st: ReaderState,
  refSec: number,
): number {
  for (const window of WINDOWS) {
    const at = findIn(fd, fileSize, from, to, st, refSec, window);
    if (at >= 0 || window >= fileSize - from) return at;
  }
  return -1;
}

function findIn(
  fd: number,
  fileSize: number,
  from: number,
  to: number,
  st: ReaderState,
  refSec: number,
  window: number,
): number {
  const want = Math.min(window, fileSize - from);
  if (want <= 0) return -1;
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buf, got, want - got, from + got);
    if (n === 0) break;
    got += n;
  }
  const atEof = from + got >= fileSize;
  const last = Math.min(got, to - from, atEof ? got : got >> 1);
  if (st.format === 'pcap') {
    for (let p = 0; p < last; p++) if (pcapChain(buf, p, got, atEof, st, refSec)) return from + p;
  } else {
    for (let p = (4 - (from % 4)) % 4; p < last; p += 4) if (ngChain(buf, p, got, atEof, st)) return from + p;
  }
  return -1;
}

function u32(b: Buffer, o: number, le: boolean): number {
  return le ? b.readUInt32LE(o) : b.readUInt32BE(o);
}

function pcapChain(b: Buffer, p: number, end: number, atEof: boolean, st: ReaderState, refSec: number): boolean {
  const le = st.le;
  const fracLimit = st.nanos ? 1e9 : 1e6;
  for (let k = 0; k < CHAIN; k++) {
    if (p === end && atEof) return k > 0;
    if (p + 16 > end) return k >= 3;
    const sec = u32(b, p, le);
    const frac = u32(b, p + 4, le);
    const incl = u32(b, p + 8, le);
    const orig = u32(b, p + 12, le);
    if (frac >= fracLimit || incl === 0 || incl > MAX_PACKET || orig < incl || orig > MAX_WIRE) return false;
    if (Math.abs(sec - refSec) > SECONDS_BAND) return false;
    p += 16 + incl;
    if (p > end) return k >= 3;
  }
  return true;
}

const KNOWN_BLOCKS = new Set([BLOCK_IDB, BLOCK_PB, BLOCK_SPB, BLOCK_NRB, BLOCK_ISB, BLOCK_EPB, BLOCK_DSB, PCAPNG_SHB]);

function ngChain(b: Buffer, p: number, end: number, atEof: boolean, st: ReaderState): boolean {
  const le = st.le;
  for (let k = 0; k < CHAIN; k++) {
    if (p === end && atEof) return k > 0;
    if (p + 12 > end) return k >= 3;
    const type = b.readUInt32LE(p) === PCAPNG_SHB ? PCAPNG_SHB : u32(b, p, le);
    if (!KNOWN_BLOCKS.has(type)) return false;
    if (type === PCAPNG_SHB) return k >= 1; // a new section: its own byte order; enough seen before it
    const len = u32(b, p + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) return false;
    if (p + len > end) return k >= 3;
    if (u32(b, p + len - 4, le) !== len) return false;
    if (type === BLOCK_EPB) {
      if (len < 32) return false;
      if (u32(b, p + 8, le) >= st.interfaces.length) return false;
      if (u32(b, p + 20, le) > len - 32) return false;
    }
    p += len;
  }
  return true;
}
