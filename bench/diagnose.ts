import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { localHost } from '../src/host/local.js';
import { labDown, labUp } from '../src/lab/lab.js';

const run = promisify(execFile);
const INSTANCE = 'benchdiag';

export interface DiagnoseBenchResult {
  hops: number;
  overheadMs: number;
  peerOverheadMs: number;
  ratio: number;
  timing: Record<string, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The manual way, scripted: one tcpdump per hop, wait until each listens, ping once, stop them. */
async function manual(hops: Array<[string, string]>, client: string): Promise<{ totalMs: number; probeMs: number }> {
  const t0 = Date.now();
  const dumps = hops.map(([ns, ifname]) =>
    spawn(
      'ip',
      ['netns', 'exec', ns, 'tcpdump', '-p', '-U', '-n', '-i', ifname, '-w', '/dev/null', 'host', '192.0.2.11'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  await Promise.all(
    dumps.map(
      (d) =>
        new Promise<void>((res) => d.stderr.on('data', (b: Buffer) => b.toString().includes('listening') && res())),
    ),
  );
  const p0 = Date.now();
  await run('ip', ['netns', 'exec', client, 'ping', '-c', '1', '-W', '1', '192.0.2.11']);
  const probeMs = Date.now() - p0;
  for (const d of dumps) d.kill('SIGINT');
  await Promise.all(dumps.map((d) => new Promise((res) => d.on('exit', res))));
  return { totalMs: Date.now() - t0, probeMs };
}

export async function runDiagnoseBench(rounds = 5): Promise<DiagnoseBenchResult> {
  const host = localHost();
  const hopdump = fileURLToPath(new URL('../../bin/hopdump', import.meta.url));
  await labDown({ host, instance: INSTANCE });
  const state = await labUp({ host, topology: 'bridged', instance: INSTANCE });
  try {
    const ours: number[] = [];
    const peer: number[] = [];
    let timing: Record<string, number> = {};
    let hops = 0;
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      const r = await run(
        hopdump,
        [
          'diagnose',
          '--netns',
          state.hypervisor,
          '--from',
          `netns:${state.client}`,
          '--target',
          '192.0.2.11',
          '--probe',
          'icmp',
          '--count',
          '1',
          '--json',
          '--out',
          '-',
        ],
        { maxBuffer: 64 << 20 },
      );
      const wall = Date.now() - t0;
      const report = JSON.parse(r.stdout) as { timing: Record<string, number>; path: { hops: unknown[] } };
      timing = report.timing;
      hops = report.path.hops.length;
      ours.push(wall - report.timing['windowMs']!);
      const m = await manual(
        [
          [state.hypervisor, 'eth0'],
          [state.hypervisor, 'vnet0'],
          [`hd-${INSTANCE}-vm1`, 'eth0'],
        ],
        state.client,
      );
      peer.push(m.totalMs - m.probeMs);
    }
    const overheadMs = median(ours);
    const peerOverheadMs = median(peer);
    return { hops, overheadMs, peerOverheadMs, ratio: overheadMs / peerOverheadMs, timing };
  } finally {
    await labDown({ host, instance: INSTANCE });
  }
}

export function formatDiagnoseBench(r: DiagnoseBenchResult): string {
  return [
    `diagnose: bridged lab, ${r.hops} hops (3 captured), 1 ICMP probe, whole process`,
    `  overhead (wall time minus the probe window): median ${r.overheadMs} ms (target: < 1500 ms)`,
    `    last run: discover ${r.timing['discoverMs']} ms, captures listening ${r.timing['captureStartMs']} ms, analysis ${r.timing['analysisMs']} ms`,
    `  peer: the same 3 tcpdumps started by hand, waited for, stopped: median ${r.peerOverheadMs} ms`,
    `  ratio hopdump/peer: ${r.ratio.toFixed(2)}x (hopdump also discovers the path, reads counters twice and correlates)`,
  ].join('\n');
}
