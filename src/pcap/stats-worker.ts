// A worker of `read --stats` on several threads (parallel.ts starts it): takes chunks until none is left.
import { parentPort, workerData } from 'node:worker_threads';
import { readChunk, type ChunkPlan, type ChunkResult } from './chunk.js';
import { CLAIM_WORKING, type WorkerResult, type WorkerTask } from './workers.js';
import { CaptureStats } from './stats.js';

const task = workerData as WorkerTask;
// Started before its file's plan is known (workers.ts), the worker waits for it.
parentPort!.once('message', (m: { plan: ChunkPlan }) => run(m.plan));

function run(plan: ChunkPlan): void {
  const claims = new Int32Array(task.shared);
  const stats = new CaptureStats();
  const chunks: ChunkResult[] = [];
  const n = plan.cuts.length - 1;
  // Begin only if the main thread has not dismissed this worker (it then no longer waits for it).
  if (Atomics.compareExchange(claims, task.index, 0, CLAIM_WORKING) !== 0) return;
  for (let k = Atomics.add(claims, 0, 1); k < n; k = Atomics.add(claims, 0, 1)) {
    const c = readChunk(plan, k, stats);
    chunks.push(c);
    if (c.error) break;
  }
  const s = stats.snapshot();
  const result: WorkerResult = { chunks, stats: s };
  parentPort!.postMessage(
    result,
    [s.classes, s.linkTypeCounts, s.fingerprints.keys, s.fingerprints.regs].map((a) => a.buffer) as ArrayBuffer[],
  );
}
