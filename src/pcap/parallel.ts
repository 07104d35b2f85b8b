import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PcapFormatError, PcapReader, type ReaderState } from './reader.js';
import { CaptureStats, type StatsSnapshot } from './stats.js';

/**
 * `hopdump read --stats` of one file on several threads. The file is cut
 * into parts by size; the main thread reads the first part, a worker each
 * other part, from the first record boundary its guess finds after the cut
 * (split.ts). A part's totals are kept only if the thread before it, parsing
 * normally, stopped exactly at that boundary with nothing changed in the
 * file's state (no new section or interface): otherwise the rest of the file
 * is read on the main thread, as if there had been no worker. The result,
 * an error and its offset included, is the single-threaded one (tested on
 * every test file, malformed ones included).
 */

export interface ParallelOptions {
  /** Threads to use, main one included (default: the available cores, at most 4). */
  threads?: number;
  /**
   * No part smaller than this (default 256 MiB: a worker takes about 40 ms to start and then runs
   * cold code; on the 472 MB capture two threads were slower than one, on 0.94 GB faster).
   */
  minPartBytes?: number;
  /** Told how the file was read: parts started, parts whose totals were kept (tests, --debug). */
  onPlan?: (plan: { parts: number; kept: number }) => void;
}

export const MAX_THREADS = 4;
/** The main thread's part is this much of a part larger (measured: workers finished 40–100 ms later). */
const HEAD_START = 0.1;

export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/** What a worker posts back (see stats-worker.ts). */
export interface PartResult {
  boundary: number;
  end: number;
  stateBlocks: number;
  stats?: StatsSnapshot;
  error?: { offset: number; reason: string } | { message: string };
}

export interface PartTask {
  path: string;
  from: number;
  to: number;
  last: boolean;
  fileSize: number;
  state: ReaderState;
  refSec: number;
}

/** Reads every packet of `path` into a CaptureStats, in parallel where the file is large enough. */
export async function fileStats(path: string, o: ParallelOptions = {}): Promise<CaptureStats> {
  const stats = new CaptureStats();
  const r = PcapReader.openFile(path);
  try {
    // A pipe or a device (size 0 here) is read on one thread.
    const st = statSync(path);
    const size = st.isFile() ? st.size : 0;
    const parts = Math.min(o.threads ?? defaultThreads(), Math.floor(size / (o.minPartBytes ?? 256 << 20)));
    const alone = () => {
      o.onPlan?.({ parts: 1, kept: 1 });
      return sequential(r, stats);
    };
    if (parts < 2 || !r.next()) return alone();
    stats.add(r);
    // The main thread starts at once, the workers later: it takes a slightly larger first part.
    const cuts = Array.from({ length: parts + 1 }, (_, k) =>
      k === 0 ? 0 : k === parts ? size : Math.floor((size * (k + HEAD_START)) / (parts + HEAD_START)),
    );
    if (cuts[1]! <= r.offset) return alone();
    const state = r.snapshot();
    const blocks = r.stateBlocks;
    const tasks: PartTask[] = [];
    for (let k = 1; k < parts; k++)
      tasks.push({
        path,
        from: cuts[k]!,
        to: cuts[k + 1]!,
        last: k === parts - 1,
        fileSize: size,
        state,
        refSec: r.tsSec,
      });
    const workers = tasks.map(startPart);
    const plan = (kept: number) => o.onPlan?.({ parts, kept });
    try {
      r.stopAt = cuts[1]!;
      while (r.next()) stats.add(r);
    } catch (err) {
      for (const w of workers) void w.terminate();
      throw err;
    }
    const results = await Promise.all(workers.map((w) => w.result));
    // How many parts, in order, continue exactly where the previous one stopped.
    let good = 0;
    let end = r.offset;
    let sameState = r.stateBlocks === blocks;
    for (const res of results) {
      if (!sameState || res.boundary !== end) break;
      good++;
      if (res.error) {
        // The first malformed record of the file: everything before it was read cleanly.
        const e = res.error;
        throw 'reason' in e ? new PcapFormatError(path, e.offset, e.reason) : new Error(e.message);
      }
      end = res.end;
      sameState = res.stateBlocks === 0;
    }
    if (good === results.length) {
      plan(parts);
      for (const res of results) stats.merge(res.stats!);
      return stats;
    }
    // A part that does not continue its predecessor: read on from the last part that does.
    if (good === 0) {
      plan(1);
      r.stopAt = Infinity;
      return sequential(r, stats);
    }
    const lastGood = results[good - 1]!;
    const keep = lastGood.stateBlocks === 0 ? good : good - 1;
    plan(1 + keep);
    for (let k = 0; k < keep; k++) stats.merge(results[k]!.stats!);
    const from = keep === good ? lastGood.end : lastGood.boundary;
    const rest = PcapReader.resumeFile(path, from, state);
    try {
      return sequential(rest, stats);
    } finally {
      rest.close();
    }
  } finally {
    r.close();
  }
}

function sequential(r: PcapReader, stats: CaptureStats): CaptureStats {
  while (r.next()) stats.add(r);
  r.end(true);
  return stats;
}

interface RunningPart {
  result: Promise<PartResult>;
  terminate(): Promise<number>;
}

/** A worker reading one part; a worker that fails answers with a boundary that matches nothing. */
function startPart(task: PartTask): RunningPart {
  const w = new Worker(new URL('./stats-worker.js', import.meta.url), {
    workerData: task,
    // Little allocation per packet: a small young generation, as bin/hopdump gives the main thread.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const failed: PartResult = { boundary: -1, end: -1, stateBlocks: 0 };
  const result = new Promise<PartResult>((resolve) => {
    w.once('message', (m: PartResult) => resolve(m));
    w.once('error', () => resolve(failed));
    w.once('exit', () => resolve(failed));
  });
  return { result, terminate: () => w.terminate() };
}
