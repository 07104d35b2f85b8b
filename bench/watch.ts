// `make bench-watch`: hopdump watch on a host with many guests, namespaces standing in for them.
// N guest namespaces (default 200) on one bridge in a hypervisor namespace, every guest a target
// probed every interval (default 10 s) for DURATION (default 1 h); watch runs in a namespace of its
// own (its HTTP on that namespace's loopback). Every 30 s: the CPU time of watch and every process
// it runs (fping, ip, iptables-save, the tracer; live children and reaped ones), and their resident
// memory. Targets: under 10 % of one core, and memory that stops growing. Prints a table and writes
// bench/out/watch.json. Options: --targets=N --interval=S --duration=S.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const N = Number(arg('targets') ?? 200);
const INTERVAL = Number(arg('interval') ?? 10);
const DURATION = Number(arg('duration') ?? 3600);
const PREFIX = process.env.HOPDUMP_BENCH_NETNS ?? 'hd-bw';
const HOPDUMP = fileURLToPath(new URL('../../bin/hopdump', import.meta.url));
const OUT = fileURLToPath(new URL('../../bench/out/watch.json', import.meta.url));
const HZ = 100; // USER_HZ: /proc's clock ticks
const SAMPLE_S = 30;

if (!(N >= 1 && N <= 250)) throw new Error('--targets: 1 to 250 (one /24 of 198.51.100.0)');

function ip(args: string[], input?: string): void {
  execFileSync('ip', args, { input, stdio: ['pipe', 'ignore', 'inherit'] });
}

function setUp(): void {
  tearDown();
  ip(['netns', 'add', `${PREFIX}-hv`]);
  ip(['netns', 'add', `${PREFIX}-mon`]);
  const links: string[] = [];
  for (let i = 1; i <= N; i++) {
    ip(['netns', 'add', `${PREFIX}-g${i}`]);
    links.push(`link add vb${i} netns ${PREFIX}-hv type veth peer name eth0 netns ${PREFIX}-g${i}`);
  }
  ip(['-batch', '-'], links.join('\n') + '\n');
  const hv = ['link set lo up', 'link add br0 type bridge', 'addr add 198.51.100.1/24 dev br0', 'link set br0 up'];
  for (let i = 1; i <= N; i++) hv.push(`link set vb${i} master br0`, `link set vb${i} up`);
  ip(['-n', `${PREFIX}-hv`, '-batch', '-'], hv.join('\n') + '\n');
  ip(['-n', `${PREFIX}-mon`, 'link', 'set', 'lo', 'up']);
  for (let i = 1; i <= N; i++)
    ip(
      ['-n', `${PREFIX}-g${i}`, '-batch', '-'],
      ['link set lo up', `addr add 198.51.100.${9 + i}/24 dev eth0`, 'link set eth0 up'].join('\n') + '\n',
    );
}

function tearDown(): void {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));
  for (const n of names) {
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split(/\s+/).filter(Boolean))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
    try {
      ip(['netns', 'del', n]);
    } catch {
      /* gone */
    }
  }
}

/** CPU ticks (own + reaped children) and RSS of a process and its live descendants. */
function usage(pid: number): { ticks: number; rssKb: number; processes: number } {
  let ticks = 0;
  let rssKb = 0;
  let processes = 0;
  const walk = (p: number) => {
    let stat: string;
    let status: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      status = readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      return;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime: fields 14-17 of stat, 12-15 after the comm.
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    processes++;
    let children: string[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(/\s+/).filter(Boolean);
    } catch {
      /* none */
    }
    for (const c of children) walk(Number(c));
  };
  walk(pid);
  return { ticks, rssKb, processes };
}

interface Sample {
  at: number;
  cpuSeconds: number;
  rssMb: number;
  processes: number;
}

function targetsUp(): number {
  try {
    const text = execFileSync(
      'ip',
      ['netns', 'exec', `${PREFIX}-mon`, 'curl', '-sf', '--max-time', '5', 'http://127.0.0.1:17291/metrics'],
      { encoding: 'utf8' },
    );
    return [...text.matchAll(/^hopdump_target_up\{[^}]*\} 1$/gm)].length;
  } catch {
    return -1;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-bench-watch-'));
  const t0 = Date.now();
  console.log(`watch benchmark: ${N} guests every ${INTERVAL} s for ${DURATION} s (namespaces ${PREFIX}-*)`);
  setUp();
  const setupS = (Date.now() - t0) / 1000;
  const targets = Array.from(
    { length: N },
    (_, k) => `  - target: 198.51.100.${10 + k}\n    netns: ${PREFIX}-hv\n    name: g${k + 1}\n`,
  ).join('');
  writeFileSync(join(dir, 'watch.yaml'), `interval: ${INTERVAL}s\ntargets:\n${targets}`);
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      `${PREFIX}-mon`,
      HOPDUMP,
      'watch',
      '--config',
      join(dir, 'watch.yaml'),
      '--runs',
      join(dir, 'runs'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  const samples: Sample[] = [];
  let up = -1;
  try {
    const started = Date.now();
    const end = started + DURATION * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_S * 1000, end - Date.now())));
      if (child.exitCode !== null) throw new Error(`watch ended (${child.exitCode}): ${log.slice(-500)}`);
      const u = usage(child.pid!);
      samples.push({
        at: (Date.now() - started) / 1000,
        cpuSeconds: u.ticks / HZ,
        rssMb: u.rssKb / 1024,
        processes: u.processes,
      });
      const s = samples[samples.length - 1]!;
      up = targetsUp();
      console.log(
        `  ${s.at.toFixed(0)} s: CPU ${s.cpuSeconds.toFixed(1)} s in all, RSS ${s.rssMb.toFixed(1)} MB (${s.processes} processes), ${up}/${N} targets up`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
    tearDown();
    rmSync(dir, { recursive: true, force: true });
  }
  // CPU from the first sample on (start-up, the discovery of N namespaces, apart).
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const cpuShare = (last.cpuSeconds - first.cpuSeconds) / (last.at - first.at);
  // Memory stops growing: the highest RSS of the last half is within 5 MB of the second quarter's.
  const q = (from: number, to: number) =>
    Math.max(...samples.filter((s) => s.at >= from * last.at && s.at <= to * last.at).map((s) => s.rssMb));
  const quarter2 = q(0.25, 0.5);
  const lastHalf = q(0.5, 1);
  const result = {
    machine: `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB`,
    date: new Date().toISOString(),
    targets: N,
    intervalSeconds: INTERVAL,
    durationSeconds: DURATION,
    setupSeconds: setupS,
    targetsUpAtEnd: up,
    cpuShareOfOneCore: cpuShare,
    rssMb: { start: first.rssMb, secondQuarterMax: quarter2, lastHalfMax: lastHalf, end: last.rssMb },
    samples,
    pass: { cpu: cpuShare < 0.1, memory: lastHalf - quarter2 <= 5, allUp: up === N },
  };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  const mark = (b: boolean) => (b ? 'PASS' : '**FAIL**');
  console.log(`
Machine: ${result.machine}; ${result.date.slice(0, 10)}; ${N} guests (namespaces on one bridge) every ${INTERVAL} s for ${DURATION} s.

| target | measured | result |
|---|---|---|
| CPU of watch and everything it runs: < 10 % of one core | ${(cpuShare * 100).toFixed(1)} % | ${mark(result.pass.cpu)} |
| memory stops growing (RSS, last half's peak ≤ second quarter's + 5 MB) | ${first.rssMb.toFixed(0)} MB at first, ${quarter2.toFixed(0)} → ${lastHalf.toFixed(0)} MB | ${mark(result.pass.memory)} |
| every target up at the end | ${up}/${N} | ${mark(result.pass.allUp)} |

(${OUT})`);
}

main().catch((err: unknown) => {
  console.error(`bench-watch: ${err instanceof Error ? err.message : String(err)}`);
  tearDown();
  process.exit(1);
});
