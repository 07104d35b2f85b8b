import { statSync } from 'node:fs';
import { readChunk, type ChunkPlan, type ChunkResult } from './chunk.js';
import { prefetchIfCold, type Prefetch } from './prefetch.js';
import { PcapFormatError, PcapReader } from './reader.js';
import { CaptureStats } from './stats.js';
import {
  CLAIM_DISMISSED,
  DEFAULT_MIN_PARALLEL_BYTES,
  defaultThreads,
  StatsWorkers,
  type RunningWorker,
} from './workers.js';

export {
  CLAIM_DISMISSED,
  CLAIM_WORKING,
  DEFAULT_MIN_PARALLEL_BYTES,
  defaultThreads,
  MAX_THREADS,
  setWorkerSource,
  StatsWorkers,
  type WorkerResult,
  type WorkerSourceOf,
  type WorkerTask,
} from './workers.js';

/**
 * `hopdump read --stats` of one file on several threads. The file is cut
 * into chunks by size (a few per thread); the main thread reads the first
 * chunk at once, and every thread, the main one included, then takes the
 * next chunk not yet taken (one shared counter) until none is left. A worker
 * starts 50-150 ms after it is asked for (read asks before it opens the
 * file: workers.ts), so the main thread is never idle waiting for one, and
 * a worker that has not taken a chunk by the end is dismissed. A chunk
 * starts at the first record boundary its thread guesses after the cut
 * (split.ts); the result is kept only if every chunk begins
 * exactly where the one before it, parsed normally, ended, with nothing
 * changed in the file's state (no new section or interface) before it.
 * Otherwise the whole file is read again on the main thread. The result, an
 * error and its offset included, is the single-threaded one (tested on every
 * test file, malformed ones included).
 */

export interface ParallelOptions {
  /** Threads to use, main one included (default: the available cores, at most 4). */
  threads?: number;
  /**
   * Files smaller than this are read on one thread (default 512 MiB). A worker starts 50-150 ms
   * after it is asked for and its code is cold for its first chunks; on the 472 MB capture two
   * threads were slower than one (560 against 430 ms), on 0.94 GB faster (docs/pcap.md).
   */
  minParallelBytes?: number;
  /**
   * Files estimated to hold fewer packets than this are read on one thread (default 4 M). The
   * estimate: the packets in the file's first 4 MiB, scaled to its size. Two threads read a 2 M
   * packet file (0.94 GB) slower than one, a 10 M one (1.2 GB, 128-byte snaplen) a fifth faster
   * (docs/pcap.md): the work, not the bytes, pays for a worker's start.
   */
  minParallelPackets?: number;
  /** Chunk size (default: the file cut into 8 chunks per thread, from 8 to 64 MiB each). */
  chunkBytes?: number;
  /** Tests: the main thread reads only the first chunk, the workers all the others. */
  mainTakesFirstOnly?: boolean;
  /**
   * Read a cold file ahead of the parser (prefetch.ts): by default if the file is cold; false, not
   * at all; or the read-ahead the caller started (read starts the first file's with its workers).
   * Stopped when the file is read.
   */
  prefetch?: boolean | Prefetch;
  /** Told how the file was read (tests, --debug). */
  onPlan?: (plan: ReadPlan) => void;
  /**
   * Workers started before the file was opened (read starts them as soon as its options are
   * parsed): used for this file, or dismissed if it is read on one thread. Their number sets the
   * threads.
   */
  workers?: StatsWorkers;
}

export interface ReadPlan {
  chunks: number;
  /** Chunks read by worker threads. */
  byWorkers: number;
  /** True when the chunks did not chain and the file was read again on one thread. */
  sequential: boolean;
  /** True when the file was cold and read ahead of the parser (prefetch.ts). */
  readAhead?: true;
}

const DEFAULT_MIN_PARALLEL_PACKETS = 4_000_000;
const PROBE_BYTES = 4 << 20;

/** Reads every packet of `path` into a CaptureStats, in parallel where the file is large enough. */
export async function fileStats(path: string, o: ParallelOptions = {}): Promise<CaptureStats> {
  let ahead = typeof o.prefetch === 'object' ? o.prefetch : undefined;
  try {
    const st = statSync(path);
    // A pipe or a device (size 0 here) is read on one thread.
    const size = st.isFile() ? st.size : 0;
    if (o.prefetch === undefined || o.prefetch === true) ahead = prefetchIfCold(path, size);
    return await statsOf(path, size, o, ahead);
  } finally {
    // Workers started early and not given this file (one thread, or an error): terminated.
    o.workers?.dismiss();
    ahead?.stop();
  }
}

async function statsOf(path: string, size: number, o: ParallelOptions, ahead?: Prefetch): Promise<CaptureStats> {
  const threads = o.workers?.threads ?? o.threads ?? defaultThreads();
  const onPlan = o.onPlan && ((p: ReadPlan) => o.onPlan!(ahead ? { ...p, readAhead: true } : p));
  const r = PcapReader.openFile(path);
  try {
    const stats = new CaptureStats();
    if (threads < 2 || size < (o.minParallelBytes ?? DEFAULT_MIN_PARALLEL_BYTES) || !r.next()) {
      onPlan?.({ chunks: 1, byWorkers: 0, sequential: false });
      return sequential(r, stats, false, ahead);
    }
    stats.add(r);
    const chunkBytes = o.chunkBytes ?? Math.min(64 << 20, Math.max(8 << 20, Math.ceil(size / (threads * 8))));
    const n = Math.max(2, Math.ceil(size / chunkBytes));
    const cuts = Array.from({ length: n + 1 }, (_, k) => (k === n ? size : Math.floor((size * k) / n)));
    if (cuts[1]! <= r.offset) {
      onPlan?.({ chunks: 1, byWorkers: 0, sequential: false });
      return sequential(r, stats, false, ahead);
    }
    const plan: ChunkPlan = { path, fileSize: size, cuts, state: r.snapshot(), refSec: r.tsSec };
    const blocks = r.stateBlocks;
    // How many packets? The first 4 MiB (or chunk 0, if smaller) say, before any worker starts.
    const minPackets = o.minParallelPackets ?? DEFAULT_MIN_PARALLEL_PACKETS;
    if (minPackets > 0) {
      const from = r.offset;
      r.stopAt = Math.min(cuts[1]!, from + PROBE_BYTES);
      stats.addAll(r);
      const estimate = r.offset > from ? (stats.packets * (size - from)) / (r.offset - from) : 0;
      if (estimate < minPackets) {
        r.stopAt = Infinity;
        onPlan?.({ chunks: 1, byWorkers: 0, sequential: false });
        return sequential(r, stats, false, ahead);
      }
    }
    const pool = o.workers ?? StatsWorkers.start(threads);
    const claims = new Int32Array(pool.shared);
    const workers: RunningWorker[] = pool.begin(plan);
    try {
      // Chunk 0, from the header on.
      r.stopAt = cuts[1]!;
      stats.addAll(r);
      const first: ChunkResult = {
        k: 0,
        boundary: 0,
        end: r.offset,
        stateBlocks: r.stateBlocks - blocks,
        packets: stats.packets,
        ...lastOf(stats),
      };
      const mine: ChunkResult[] = [first];
      if (!o.mainTakesFirstOnly)
        for (let k = Atomics.add(claims, 0, 1); k < n; k = Atomics.add(claims, 0, 1))
          if (mine.push(readChunk(plan, k, stats)) && mine[mine.length - 1]!.error) break;
      // Workers that have not begun are dismissed rather than waited for (all chunks are taken).
      const dismiss = (i: number) =>
        !o.mainTakesFirstOnly && Atomics.compareExchange(claims, i + 1, 0, CLAIM_DISMISSED) === 0;
      const results = await Promise.all(workers.map((w, i) => (dismiss(i) ? Promise.resolve(undefined) : w.result)));
      const byK = new Array<ChunkResult | undefined>(n);
      for (const c of mine) byK[c.k] = c;
      let byWorkers = 0;
      for (const res of results)
        for (const c of res?.chunks ?? []) {
          byK[c.k] = c;
          byWorkers++;
        }
      // The chain: each chunk starts where the one before it ended, with the state it was given.
      let lastWithPackets = first;
      for (let k = 1; k < n; k++) {
        const prev = byK[k - 1]!;
        const c = byK[k];
        if (!c || prev.error || prev.stateBlocks > 0 || c.boundary !== prev.end) {
          onPlan?.({ chunks: n, byWorkers, sequential: true });
          return sequential(PcapReader.openFile(path), new CaptureStats(), true);
        }
        if (c.error) {
          // The file's first malformed record: every byte before it was read cleanly.
          const e = c.error;
          throw 'reason' in e ? new PcapFormatError(path, e.offset, e.reason) : new Error(e.message);
        }
        if (c.packets > 0) lastWithPackets = c;
      }
      onPlan?.({ chunks: n, byWorkers, sequential: false });
      for (const res of results) if (res) stats.merge(res.stats);
      stats.setLast(lastWithPackets.lastSec, lastWithPackets.lastNsec, lastWithPackets.lastFp);
      return stats;
    } finally {
      for (const w of workers) void w.terminate();
    }
  } finally {
    r.close();
  }
}

function lastOf(stats: CaptureStats): Pick<ChunkResult, 'lastSec' | 'lastNsec' | 'lastFp'> {
  const [lastSec, lastNsec] = stats.lastTime;
  return { lastSec, lastNsec, lastFp: stats.packets > 0 ? stats.lastFingerprint() : '' };
}

/** Where the parser tells a read-ahead how far it has come. */
const AHEAD_STEP = 16 << 20;

function sequential(r: PcapReader, stats: CaptureStats, close = false, ahead?: Prefetch): CaptureStats {
  try {
    if (ahead) {
      // In steps, each ending at the first record at or after its bound, until one ends short (the
      // end of the file): the read-ahead then queues the pieces a window past the parser.
      for (;;) {
        r.stopAt = r.offset + AHEAD_STEP;
        stats.addAll(r);
        ahead.ahead(r.offset);
        if (r.offset < r.stopAt) break;
      }
      r.stopAt = Infinity;
    }
    stats.addAll(r);
    r.end(true);
    return stats;
  } finally {
    if (close) r.close();
  }
}
