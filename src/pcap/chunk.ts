import { closeSync, openSync } from 'node:fs';
import { PcapFormatError, PcapReader, type ReaderState } from './reader.js';
import { findRecordStart } from './split.js';
import type { CaptureStats } from './stats.js';

/**
 * One chunk of a file for `read --stats` on several threads (parallel.ts):
 * from the first record boundary found at or after its cut (split.ts) to the
 * last record that starts before the next cut. Whichever thread takes a chunk
 * adds its packets to that thread's own totals and says where it began and
 * ended, so that the main thread can check the chain afterwards.
 */
export interface ChunkPlan {
  path: string;
  fileSize: number;
  /** Cut points: chunk k is [cuts[k], cuts[k + 1]); the first is 0, the last the file's size. */
  cuts: number[];
  /** The reader's state after the file's header (and first interfaces): where every chunk starts from. */
  state: ReaderState;
  /** The first packet's seconds, for the boundary guess. */
  refSec: number;
}

export interface ChunkResult {
  k: number;
  /** Where the chunk's first record was found; -1 when none could be told. */
  boundary: number;
  /** The offset after its last record (the next chunk's boundary when the guess was right). */
  end: number;
  /** Section or interface blocks met in the chunk: the chunks after it started from a stale state. */
  stateBlocks: number;
  packets: number;
  /** The chunk's last packet: its time and fingerprint (the file's last, for the last chunk with packets). */
  lastSec: number;
  lastNsec: number;
  lastFp: string;
  error?: { offset: number; reason: string } | { message: string };
}

/** Reads chunk `k` into `stats`; a format error is returned, not thrown (it may be a wrong guess). */
export function readChunk(plan: ChunkPlan, k: number, stats: CaptureStats): ChunkResult {
  const from = plan.cuts[k]!;
  const to = plan.cuts[k + 1]!;
  const last = k === plan.cuts.length - 2;
  const result: ChunkResult = {
    k,
    boundary: -1,
    end: -1,
    stateBlocks: 0,
    packets: 0,
    lastSec: -1,
    lastNsec: 0,
    lastFp: '',
  };
  const fd = openSync(plan.path, 'r');
  try {
    result.boundary = findRecordStart(fd, plan.fileSize, from, to, plan.state, plan.refSec);
  } finally {
    closeSync(fd);
  }
  if (result.boundary < 0) return result;
  const r = PcapReader.resumeFile(plan.path, result.boundary, plan.state);
  if (!last) r.stopAt = to;
  const before = stats.packets;
  try {
    stats.addAll(r);
    if (last) r.end(true);
    result.end = r.offset;
  } catch (err) {
    result.error =
      err instanceof PcapFormatError
        ? { offset: err.offset, reason: err.reason }
        : { message: err instanceof Error ? err.message : String(err) };
  } finally {
    r.close();
  }
  result.stateBlocks = r.stateBlocks;
  result.packets = stats.packets - before;
  if (result.packets > 0) {
    [result.lastSec, result.lastNsec] = stats.lastTime;
    result.lastFp = stats.lastFingerprint();
  }
  return result;
}
