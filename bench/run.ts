// `make bench`: every benchmark, each measured against a peer in the same run.
import { existsSync } from 'node:fs';
import { formatDiagnoseBench, runDiagnoseBench } from './diagnose.js';
import { formatDiscoverBench, runDiscoverBench } from './discover.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

if (!only || only === 'discover') {
  console.log(formatDiscoverBench(await runDiscoverBench(quick ? 3 : 7)));
}
if (!only || only === 'diagnose') {
  console.log(formatDiagnoseBench(await runDiagnoseBench(quick ? 3 : 5)));
}
const pcapBench = new URL('./pcap/index.js', import.meta.url);
if ((!only || only === 'pcap') && existsSync(pcapBench)) {
  const mod = (await import(pcapBench.href)) as { runPcapBench: (o: { quick: boolean }) => Promise<unknown> };
  await mod.runPcapBench({ quick });
}
