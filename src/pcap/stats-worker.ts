// One part of a file for `read --stats` on several threads (parallel.ts starts it).
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { PartResult, PartTask } from './parallel.js';
import { PcapFormatError, PcapReader } from './reader.js';
import { findRecordStart } from './split.js';
import { CaptureStats } from './stats.js';

const task = workerData as PartTask;

function run(): PartResult {
  const fd = openSync(task.path, 'r');
  let boundary: number;
  try {
    boundary = findRecordStart(fd, task.fileSize, task.from, task.to, task.state, task.refSec);
  } finally {
    closeSync(fd);
  }
  if (boundary < 0) return { boundary, end: -1, stateBlocks: 0 };
  const r = PcapReader.resumeFile(task.path, boundary, task.state);
  if (!task.last) r.stopAt = task.to;
  const stats = new CaptureStats();
  try {
    while (r.next()) stats.add(r);
    if (task.last) r.end(true);
  } catch (err) {
    const error =
      err instanceof PcapFormatError
        ? { offset: err.offset, reason: err.reason }
        : { message: err instanceof Error ? err.message : String(err) };
    return { boundary, end: -1, stateBlocks: r.stateBlocks, error };
  } finally {
    r.close();
  }
  return { boundary, end: r.offset, stateBlocks: r.stateBlocks, stats: stats.snapshot() };
}

const result = run();
const s = result.stats;
parentPort!.postMessage(
  result,
  s
    ? ([s.classes, s.linkTypeCounts, s.fingerprints.keys, s.fingerprints.regs].map((a) => a.buffer) as ArrayBuffer[])
    : [],
);
