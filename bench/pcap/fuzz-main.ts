// `make fuzz`: the reader's mutation fuzz run on its own (N inputs, default 100000).
import { runFuzz } from './fuzz.js';

const n = Number(process.argv[2] ?? 100_000);
const t = Date.now();
const r = runFuzz(n);
console.log(
  `fuzz: ${r.inputs} inputs in ${((Date.now() - t) / 1000).toFixed(1)} s: ${r.clean} clean, ${r.formatErrors} format errors with an offset, ${r.crashes} crashes, slowest ${r.slowestMs.toFixed(1)} ms`,
);
if (r.crashes > 0) {
  console.log(`first crash:\n${r.firstCrash}`);
  process.exit(1);
}
