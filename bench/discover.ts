import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NETNS = 'hd-bench-hv';
const PAIRS = 500;
const BRIDGES = 50;

export interface DiscoverBenchResult {
  interfaces: number;
  medianMs: number;
  peerMedianMs: number;
  ratio: number;
  peakRssMb: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** 500 veth pairs and 50 bridges (10 pairs' ends on each) in one namespace, built with ip -batch. */
async function build(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-bench-'));
  const batch = join(dir, 'ip.batch');
  const lines: string[] = [];
  for (let b = 0; b < BRIDGES; b++) lines.push(`link add br${b} type bridge`, `link set br${b} up`);
  for (let p = 0; p < PAIRS; p++) {
    lines.push(`link add va${p} type veth peer name vb${p}`);
    lines.push(`link set va${p} master br${p % BRIDGES}`, `link set va${p} up`, `link set vb${p} up`);
    lines.push(`addr add 198.51.100.${(p % 250) + 1}/32 dev vb${p}`);
  }
  writeFileSync(batch, `${lines.join('\n')}\n`);
  try {
    await run('ip', ['netns', 'add', NETNS]);
    await run('ip', ['-n', NETNS, '-batch', batch]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed(file: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  await run(file, args, { maxBuffer: 256 << 20 });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function runDiscoverBench(rounds = 7): Promise<DiscoverBenchResult> {
  const hopdump = fileURLToPath(new URL('../../bin/hopdump', import.meta.url));
  await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
  try {
    await build();
    const ours: number[] = [];
    const peer: number[] = [];
    let peakRssMb = 0;
    let interfaces = 0;
    for (let i = 0; i < rounds; i++) {
      // hopdump discover, whole process, as an operator runs it.
      const t0 = process.hrtime.bigint();
      const r = await run(process.execPath, [hopdump, 'discover', '--netns', NETNS, '--json'], {
        maxBuffer: 256 << 20,
        env: { ...process.env, HOPDUMP_REPORT_RSS: '1' },
      });
      ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const rss = r.stderr.match(/maxrss_kb=(\d+)/);
      if (rss) peakRssMb = Math.max(peakRssMb, Number(rss[1]) / 1024);
      interfaces = (JSON.parse(r.stdout) as { namespaces: Array<{ interfaces: unknown[] }> }).namespaces[0]!.interfaces
        .length;
      // The peer: iproute2 alone dumping the same state, one command after another.
      let p = 0;
      p += await timed('ip', ['-n', NETNS, '-j', '-d', '-s', 'link', 'show']);
      p += await timed('ip', ['-n', NETNS, '-j', 'addr', 'show']);
      p += await timed('ip', ['-n', NETNS, '-j', 'route', 'show', 'table', 'all']);
      p += await timed('bridge', ['-n', NETNS, '-j', 'fdb', 'show']);
      peer.push(p);
    }
    const medianMs = median(ours);
    const peerMedianMs = median(peer);
    return { interfaces, medianMs, peerMedianMs, ratio: medianMs / peerMedianMs, peakRssMb };
  } finally {
    await run('ip', ['netns', 'del', NETNS]).catch(() => undefined);
  }
}

export function formatDiscoverBench(r: DiscoverBenchResult): string {
  return [
    `discover: ${PAIRS} veth pairs + ${BRIDGES} bridges (${r.interfaces} interfaces) in one namespace`,
    `  hopdump discover --json   median ${r.medianMs.toFixed(0)} ms wall, peak RSS ${r.peakRssMb.toFixed(0)} MB (target: < 1000 ms)`,
    `  peer: ip link/addr/route + bridge fdb dumps alone   median ${r.peerMedianMs.toFixed(0)} ms`,
    `  ratio hopdump/peer: ${r.ratio.toFixed(2)}x`,
  ].join('\n');
}
