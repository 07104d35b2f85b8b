// `make bench`: every benchmark, each measured against a peer in the same run.
// Options: --quick (small files, fewer runs), --only=discover|diagnose|pcap, and for the pcap part
// --runs=N (medians of N, default 3; the pcap part makes its comparisons even, see docs/pcap.md), --part=startup,reads,match,live,fuzz, --cond=warm|cold.
import { existsSync } from 'node:fs';
import { formatDiagnoseBench, runDiagnoseBench } from './diagnose.js';
import { formatDiscoverBench, runDiscoverBench } from './discover.js';
import type { PcapBenchOptions } from './pcap/index.js';

const quick = process.argv.includes('--quick');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg('only');

if (!only || only === 'discover') {
  console.log(formatDiscoverBench(await runDiscoverBench(quick ? 3 : 7)));
}
if (!only || only === 'diagnose') {
  console.log(formatDiagnoseBench(await runDiagnoseBench(quick ? 3 : 5)));
}
const pcapBench = new URL('./pcap/index.js', import.meta.url);
if ((!only || only === 'pcap') && existsSync(pcapBench)) {
  const mod = (await import(pcapBench.href)) as { runPcapBench: (o: PcapBenchOptions) => Promise<unknown> };
  const runs = arg('runs');
  const parts = arg('part');
  const cond = arg('cond');
  if (runs !== undefined && !(Number(runs) >= 1)) throw new Error(`--runs=${runs}: a number ≥ 1`);
  if (cond !== undefined && cond !== 'warm' && cond !== 'cold') throw new Error(`--cond=${cond}: warm or cold`);
  await mod.runPcapBench({
    quick,
    ...(runs ? { runs: Number(runs) } : {}),
    ...(parts ? { parts: parts.split(',') } : {}),
    ...(cond ? { conditions: [cond] } : {}),
  });
}
