// The pcap engine's benchmarks (part of `make bench`; `make bench-pcap` alone):
// every figure against a peer measured in the same run on the same files.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collisionRate, type CollisionResult } from './collisions.js';
import { runFuzz, type FuzzResult } from './fuzz.js';
import { generateCapture, generateHops } from './generate.js';

const HOPDUMP = fileURLToPath(new URL('../../../bin/hopdump', import.meta.url));
const DATA = process.env.HOPDUMP_BENCH_DIR ?? '/var/tmp/hopdump-bench';

interface Timed {
  seconds: number;
  rssKb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS. */
function timed(cmd: string, args: string[], okCodes = [0]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  if (!m || !okCodes.includes(r.status ?? -1))
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
  return {
    seconds: Number(m[1]),
    rssKb: Number(m[2]),
    stdout: r.stdout,
    stderr: r.stderr.replace(/TIME [\d.]+ \d+\s*$/, ''),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Generates a file once and keeps it (regenerated when the generator's parameters change). */
function cached(name: string, make: (file: string) => void): string {
  mkdirSync(DATA, { recursive: true });
  const file = join(DATA, name);
  if (!existsSync(file)) {
    const t = Date.now();
    make(file);
    console.log(
      `  generated ${name} (${(statSync(file).size / 1e9).toFixed(2)} GB) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  return file;
}

export interface ReadBench {
  file: string;
  packets: number;
  gigabytes: number;
  tcpdump: { seconds: number; mpps: number; rssMb: number };
  hopdump: { seconds: number; mpps: number; rssMb: number };
  ratio: number;
}

function readBench(file: string, packets: number, runs: number): ReadBench {
  // Warm the page cache once for both (reading 5 GB from disk would measure the disk).
  execFileSync('tcpdump', ['-r', file, '-w', '/dev/null'], { stdio: 'ignore' });
  const t: Timed[] = [];
  const h: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    t.push(timed('tcpdump', ['-nn', '-r', file, '-w', '/dev/null']));
    const mine = timed(HOPDUMP, ['read', '--stats', '--json', file]);
    const got = (JSON.parse(mine.stdout) as { packets: number }).packets;
    if (got !== packets) throw new Error(`hopdump read --stats counted ${got} packets, expected ${packets}`);
    h.push(mine);
  }
  const ts = median(t.map((x) => x.seconds));
  const hs = median(h.map((x) => x.seconds));
  return {
    file,
    packets,
    gigabytes: statSync(file).size / 1e9,
    tcpdump: { seconds: ts, mpps: packets / ts / 1e6, rssMb: Math.max(...t.map((x) => x.rssKb)) / 1024 },
    hopdump: { seconds: hs, mpps: packets / hs / 1e6, rssMb: Math.max(...h.map((x) => x.rssKb)) / 1024 },
    ratio: ts / hs,
  };
}

export interface MatchBench {
  files: string[];
  packets: number;
  mergecap: { seconds: number; rssMb: number };
  analyze: { seconds: number; rssMb: number; notice: string };
  ratio: number;
}

function matchBench(files: string[], packets: number, runs: number): MatchBench {
  for (const f of files) execFileSync('tcpdump', ['-r', f, '-w', '/dev/null'], { stdio: 'ignore' });
  const m: Timed[] = [];
  const a: Timed[] = [];
  let notice = '';
  for (let i = 0; i < runs; i++) {
    m.push(timed('mergecap', ['-w', '/dev/null', ...files]));
    // Exit 1 is analyze finding loss (the generated last hop loses 1 % of packets).
    const run = timed(
      HOPDUMP,
      ['analyze', '--order', 'given', '--target', '192.0.2.10', '--window', '1', '--json', ...files],
      [0, 1],
    );
    const report = JSON.parse(run.stdout) as { notices: string[] };
    notice = report.notices.find((n) => n.startsWith('all traffic')) ?? '';
    a.push(run);
  }
  const ms = median(m.map((x) => x.seconds));
  const as = median(a.map((x) => x.seconds));
  return {
    files,
    packets,
    mergecap: { seconds: ms, rssMb: Math.max(...m.map((x) => x.rssKb)) / 1024 },
    analyze: { seconds: as, rssMb: Math.max(...a.map((x) => x.rssKb)) / 1024, notice },
    ratio: ms / as,
  };
}

export interface LiveRun {
  captured: number;
  droppedByKernel: number;
  read?: number;
}

export interface LiveBench {
  pps: number;
  sent: number;
  /** The peer: the same tcpdump writing to /dev/null (what the machine itself manages). */
  baseline?: LiveRun;
  /** tcpdump -w - | hopdump read --stats -. */
  piped?: LiveRun;
  note?: string;
}

/** One replay at a fixed rate into a veth; tcpdump on its peer writes to /dev/null or pipes into hopdump. */
async function liveRun(source: string, pps: number, A: string, B: string, piped: boolean): Promise<LiveRun> {
  const td = spawn(
    'ip',
    ['netns', 'exec', B, 'tcpdump', '-p', '-n', '-i', 'r1', '-B', '32768', '-w', piped ? '-' : '/dev/null'],
    { stdio: ['ignore', piped ? 'pipe' : 'ignore', 'pipe'] },
  );
  let reader: ReturnType<typeof spawn> | undefined;
  let out = '';
  if (piped) {
    // tcpdump's stdout is hopdump's stdin (the fd itself: no relay through this process).
    reader = spawn(HOPDUMP, ['read', '--stats', '--json', '-'], { stdio: [td.stdout!, 'pipe', 'inherit'] });
    reader.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    // Let the reader start (node's start-up) before traffic flows.
    await new Promise((r) => setTimeout(r, 1500));
  }
  let tdErr = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${tdErr}`)), 10_000);
    const check = () => {
      if (tdErr.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    };
    td.stderr!.on('data', (c: Buffer) => {
      tdErr += c.toString();
      check();
    });
  });
  const replay = spawnSync('ip', ['netns', 'exec', A, 'tcpreplay', '-q', '-i', 'r0', `--pps=${pps}`, source], {
    encoding: 'utf8',
  });
  if (replay.status !== 0) throw new Error(`tcpreplay failed: ${replay.stderr}`);
  await new Promise((r) => setTimeout(r, 1000));
  const tdDone = new Promise<void>((resolve) => td.on('exit', () => resolve()));
  const readerDone = reader ? new Promise<void>((resolve) => reader.on('exit', () => resolve())) : Promise.resolve();
  td.kill('SIGINT');
  await tdDone;
  await readerDone;
  const captured = Number(/(\d+) packets? captured/.exec(tdErr)?.[1] ?? -1);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(tdErr)?.[1] ?? -1);
  return {
    captured,
    droppedByKernel: dropped,
    ...(piped ? { read: (JSON.parse(out) as { packets: number }).packets } : {}),
  };
}

async function liveBench(packets: number, pps: number): Promise<LiveBench> {
  const source = cached(`live-${packets}.pcap`, (f) => generateCapture(f, { packets, flows: 2000, rate: pps }));
  const tag = `hd-bench${process.pid % 10000}`;
  const A = `${tag}-a`;
  const B = `${tag}-b`;
  const sh = (args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'ignore' });
  try {
    sh(['ip', 'netns', 'add', A]);
    sh(['ip', 'netns', 'add', B]);
    sh(['ip', 'link', 'add', 'r0', 'netns', A, 'type', 'veth', 'peer', 'name', 'r1', 'netns', B]);
    sh(['ip', '-n', A, 'link', 'set', 'r0', 'up']);
    sh(['ip', '-n', B, 'link', 'set', 'r1', 'up']);
    const baseline = await liveRun(source, pps, A, B, false);
    const piped = await liveRun(source, pps, A, B, true);
    return { pps, sent: packets, baseline, piped };
  } finally {
    for (const ns of [A, B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

export interface PcapBenchResult {
  reads: ReadBench[];
  match?: MatchBench;
  live?: LiveBench;
  fuzz: FuzzResult;
  collisions: CollisionResult;
}

export function formatPcapBench(r: PcapBenchResult): string {
  const lines = [
    'pcap engine (hopdump read --stats vs tcpdump -nn -r FILE -w /dev/null, same files, same run, medians):',
  ];
  lines.push(
    '  file                         packets     GB   tcpdump Mpps   hopdump Mpps   ratio   RSS tcpdump/hopdump',
  );
  for (const b of r.reads) {
    const name = b.file.split('/').pop()!;
    lines.push(
      `  ${name.padEnd(26)} ${String(b.packets).padStart(10)} ${b.gigabytes.toFixed(2).padStart(6)}   ${b.tcpdump.mpps.toFixed(2).padStart(12)}   ${b.hopdump.mpps.toFixed(2).padStart(12)}   ${b.ratio.toFixed(2).padStart(5)}×   ${b.tcpdump.rssMb.toFixed(0)} / ${b.hopdump.rssMb.toFixed(0)} MB`,
    );
  }
  if (r.match) {
    const m = r.match;
    lines.push(
      `  correlation: ${m.files.length} hop files × ${m.packets / m.files.length} packets: hopdump analyze ${m.analyze.seconds.toFixed(2)} s (RSS ${m.analyze.rssMb.toFixed(0)} MB), mergecap -w /dev/null ${m.mergecap.seconds.toFixed(2)} s → ${m.ratio.toFixed(2)}× mergecap's speed`,
    );
    lines.push(`    ${m.analyze.notice}`);
  }
  if (r.live) {
    const l = r.live;
    if (l.baseline && l.piped) {
      lines.push(
        `  live: tcpreplay ${l.sent} packets at ${l.pps} pps into a veth; tcpdump -w /dev/null (peer): captured ${l.baseline.captured}, dropped by kernel ${l.baseline.droppedByKernel}; tcpdump -w - | hopdump read --stats -: captured ${l.piped.captured}, dropped by kernel ${l.piped.droppedByKernel}, read ${l.piped.read}`,
      );
    } else lines.push(`  live: ${l.note ?? 'not measured'}`);
  }
  const f = r.fuzz;
  lines.push(
    `  fuzz: ${f.inputs} mutated inputs (stream and file mode): ${f.clean} read cleanly, ${f.formatErrors} clear format errors, ${f.crashes} crashes, slowest ${f.slowestMs.toFixed(1)} ms`,
  );
  const c = r.collisions;
  lines.push(
    `  fingerprint collisions on ${c.packets} mixed packets (${c.distinctIdentities} distinct identities): 64-bit ${c.collisions64}, 32-bit halves ${c.collisions32} (expected ≈${c.expected32.toFixed(0)} by the birthday bound)`,
  );
  return lines.join('\n');
}

export async function runPcapBench(o: { quick: boolean }): Promise<PcapBenchResult> {
  if (process.env.HOPDUMP_BENCH_PART === 'match') {
    const perHop = o.quick ? 1_000_000 : 10_000_000;
    const hopFiles = [0, 1, 2, 3].map((i) => join(DATA, `hop${i}-${perHop / 1e6}m.pcap`));
    const match = matchBench(hopFiles, perHop * 4, 1);
    console.log(
      formatPcapBench({ reads: [], match, fuzz: emptyFuzz, collisions: emptyCollisions })
        .split('\n')
        .slice(2, -2)
        .join('\n'),
    );
    return { reads: [], match, fuzz: emptyFuzz, collisions: emptyCollisions };
  }
  if (process.env.HOPDUMP_BENCH_PART === 'live') {
    const live = await liveBench(o.quick ? 200_000 : 1_000_000, 100_000);
    console.log(
      formatPcapBench({ reads: [], live, fuzz: emptyFuzz, collisions: emptyCollisions })
        .split('\n')
        .slice(2, -2)
        .join('\n'),
    );
    return { reads: [], live, fuzz: emptyFuzz, collisions: emptyCollisions };
  }
  const big = o.quick ? 2_000_000 : 10_000_000;
  const runs = o.quick ? 1 : 3;
  console.log(`pcap engine benchmark (data in ${DATA}; ${o.quick ? 'quick' : 'full'})`);
  const files = [
    { name: 'mix-1m.pcap', packets: 1_000_000, format: 'pcap' as const },
    { name: `mix-${big / 1e6}m.pcap`, packets: big, format: 'pcap' as const },
    { name: `mix-${big / 1e6}m.pcapng`, packets: big, format: 'pcapng' as const },
    { name: `mix-${big / 1e6}m-snap128.pcap`, packets: big, format: 'pcap' as const, snaplen: 128 },
  ];
  const reads: ReadBench[] = [];
  for (const f of files) {
    const file = cached(f.name, (p) =>
      generateCapture(p, { packets: f.packets, format: f.format, ...(f.snaplen ? { snaplen: f.snaplen } : {}) }),
    );
    reads.push(readBench(file, f.packets, runs));
    console.log(
      formatPcapBench({ reads: [reads.at(-1)!], fuzz: emptyFuzz, collisions: emptyCollisions }).split('\n')[2],
    );
  }
  const perHop = o.quick ? 1_000_000 : 10_000_000;
  const hopFiles = [0, 1, 2, 3].map((i) => join(DATA, `hop${i}-${perHop / 1e6}m.pcap`));
  if (!hopFiles.every((f) => existsSync(f))) {
    const t = Date.now();
    generateHops(hopFiles, { packets: perHop, snaplen: 128, rate: 100_000, flows: 20_000 });
    console.log(`  generated 4 hop files in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const hopPackets = hopFiles.reduce(
    (n, f) =>
      n + Number(execFileSync('capinfos', ['-M', '-c', '-r', '-T', f], { encoding: 'utf8' }).trim().split('\t').pop()),
    0,
  );
  const match = matchBench(hopFiles, hopPackets, runs);
  let live: LiveBench | undefined;
  try {
    live = await liveBench(o.quick ? 200_000 : 1_000_000, 100_000);
  } catch (err) {
    live = { pps: 100_000, sent: 0, note: `not measured: ${(err as Error).message.split('\n')[0]}` };
  }
  console.log(
    formatPcapBench({ reads: [], match, live, fuzz: emptyFuzz, collisions: emptyCollisions })
      .split('\n')
      .slice(2, -2)
      .join('\n'),
  );
  const fuzz = runFuzz(o.quick ? 20_000 : 100_000);
  const collisions = collisionRate(join(DATA, files[0]!.name));
  const result = { reads, match, live, fuzz, collisions };
  console.log(formatPcapBench(result));
  return result;
}

const emptyFuzz: FuzzResult = { inputs: 0, clean: 0, formatErrors: 0, crashes: 0, slowestMs: 0, firstCrash: undefined };
const emptyCollisions: CollisionResult = {
  packets: 0,
  distinctIdentities: 0,
  collisions64: 0,
  collisions32: 0,
  expected32: 0,
};
