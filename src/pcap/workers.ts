import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkPlan, ChunkResult } from './chunk.js';
import type { StatsSnapshot } from './stats.js';

/**
 * The worker threads of `read --stats` on several threads (parallel.ts says
 * how a file is shared out). A worker takes 100-200 ms to start (its own Node
 * environment, then the engine's modules), so `read` starts the first file's
 * workers as soon as its options are parsed, before it opens and probes the
 * file (docs/pcap.md, "Two cores"). Until it is given a plan, a worker waits;
 * one the main thread does not need is terminated. This module loads none of
 * the engine.
 */

export const MAX_THREADS = 4;
/** Files smaller than this are read on one thread unless told otherwise (parallel.ts). */
export const DEFAULT_MIN_PARALLEL_BYTES = 512 << 20;

export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/** What a worker is given (see stats-worker.ts); its plan comes later, by a message. */
export interface WorkerTask {
  /** Int32 [next chunk to take, then one claim flag per worker]. */
  shared: SharedArrayBuffer;
  index: number;
}

/** What a worker posts back. */
export interface WorkerResult {
  chunks: ChunkResult[];
  stats: StatsSnapshot;
}

/** Worker claim flags: 0 not started, 1 working (its result will come), 2 dismissed by the main thread. */
export const CLAIM_WORKING = 1;
export const CLAIM_DISMISSED = 2;

/** Where a worker thread's code comes from: its script file, or code to run with `eval`. */
export type WorkerSourceOf = (file: URL) => { source: string | URL; eval: boolean };

let workerSourceOf: WorkerSourceOf = (file) => ({ source: file, eval: false });

/**
 * The single executable has no script files beside it: its entry point (src/cli/exe.ts) says
 * where the stats worker's code is instead (the engine stays a leaf that imports nothing).
 */
export function setWorkerSource(f: WorkerSourceOf): void {
  workerSourceOf = f;
}

export interface RunningWorker {
  /** Undefined when the worker failed: its chunks are then missing and the chain breaks. */
  result: Promise<WorkerResult | undefined>;
  terminate(): Promise<number>;
}

/**
 * Worker threads that wait for their file's plan: started early by `read` (before the file is
 * opened), or by fileStats once it knows the file is worth them.
 */
export class StatsWorkers {
  private used = false;

  private constructor(
    readonly shared: SharedArrayBuffer,
    private readonly workers: Array<RunningWorker & { worker: Worker }>,
  ) {}

  /** Starts `threads - 1` workers that wait for a plan. */
  static start(threads: number): StatsWorkers {
    const shared = new SharedArrayBuffer(4 * threads);
    const workers = Array.from({ length: threads - 1 }, (_, i) => spawn({ shared, index: i + 1 }));
    return new StatsWorkers(shared, workers);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Gives every worker the plan (chunk 0 is the main thread's); once. */
  begin(plan: ChunkPlan): RunningWorker[] {
    if (this.used) throw new Error('StatsWorkers.begin: already begun');
    this.used = true;
    Atomics.store(new Int32Array(this.shared), 0, 1);
    for (const w of this.workers) {
      w.worker.ref();
      w.worker.postMessage({ plan });
    }
    return this.workers;
  }

  /** The workers' exit codes once they have all ended (tests). */
  exited(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => new Promise<number>((resolve) => w.worker.once('exit', resolve))));
  }

  /** Terminates the workers: not needed (one thread after all, an error), or done. */
  dismiss(): void {
    this.used = true;
    for (const w of this.workers) void w.terminate();
  }
}

function spawn(task: WorkerTask): RunningWorker & { worker: Worker } {
  const { source, eval: isCode } = workerSourceOf(new URL('./stats-worker.js', import.meta.url));
  const w = new Worker(source, {
    eval: isCode,
    workerData: task,
    // Little allocation per packet: a small young generation, as bin/hopdump gives the main thread.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  // A worker waiting for a plan must not keep the process alive (an error on the main thread);
  // begin() refs it.
  w.unref();
  const result = new Promise<WorkerResult | undefined>((resolve) => {
    w.once('message', (m: WorkerResult) => resolve(m));
    w.once('error', () => resolve(undefined));
    w.once('exit', () => resolve(undefined));
  });
  return { worker: w, result, terminate: () => w.terminate() };
}
