// The pcap engine's benchmarks (part of `make bench`; `make bench-pcap` alone): every figure
// against a peer measured in the same run, on the same files, under the same condition (page
// cache warm and cold, set and checked before each timed run), the targets with PASS/FAIL at the
// end, and bench/out/pcap.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collisionRate } from './collisions.js';
import { evenRuns, holds, machine, prepare, warmUp, type Condition } from './conditions.js';
import { runFuzz } from './fuzz.js';
import { generateCapture, generateHops } from './generate.js';
import { liveBench, TARGET_IP, type LivePath } from './live.js';
import {
  evaluateTargets,
  formatReport,
  LIVE_TOTAL_PPS,
  type CondFigure,
  type ExeAnalyzeFigure,
  type MatchFigure,
  type PcapBenchReport,
  type ReadFigure,
  type StartupFigure,
  type ToolFigure,
} from './targets.js';

const HOPDUMP = fileURLToPath(new URL('../../../bin/hopdump', import.meta.url));
/** The single executable (`make exe`); its figures are left out when it is not built. */
const EXE = fileURLToPath(new URL('../../../release/hopdump-linux-x64', import.meta.url));
const OUT = fileURLToPath(new URL('../../../bench/out/pcap.json', import.meta.url));
const DATA = process.env.HOPDUMP_BENCH_DIR ?? '/var/tmp/hopdump-bench';
/** Namespaces of the live benchmark: PREFIX-src, PREFIX-hv, PREFIX-guest. */
const LIVE_PREFIX = process.env.HOPDUMP_BENCH_NETNS ?? `hd-bench${process.pid % 10000}`;

interface Timed {
  seconds: number;
  rssKb: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time (peak RSS); wall time measured here, to the microsecond. */
function timed(cmd: string, args: string[], okCodes = [0]): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  if (!m || !okCodes.includes(r.status ?? -1))
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
  return { seconds, rssKb: Number(m[2]), stdout: r.stdout };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const toolFigure = (t: Timed[]): ToolFigure => ({
  seconds: median(t.map((x) => x.seconds)),
  runs: t.map((x) => +x.seconds.toFixed(4)),
  rssMb: Math.max(...t.map((x) => x.rssKb)) / 1024,
});

interface Tool {
  cmd: string;
  args: string[];
  okCodes?: number[];
  check?: (t: Timed) => void;
}

/**
 * The peer and hopdump, `runs` times each (made even: evenRuns), alternating (which goes first alternates too), each
 * run under the condition: warm (read once before; residency checked before each run) or cold
 * (the files' pages dropped before each run of each tool, and checked).
 */
function compare(files: string[], peer: Tool, mine: Tool, asked: number, condition: Condition): CondFigure {
  const runs = evenRuns(asked);
  if (condition === 'warm') warmUp(files);
  const p: Timed[] = [];
  const h: Timed[] = [];
  const shares: number[] = [];
  const once = (tool: Tool, into: Timed[]) => {
    const share = prepare(files, condition);
    shares.push(share);
    if (!holds(condition, share))
      console.log(
        `    ${condition === 'warm' ? `not resident: ${(share * 100).toFixed(0)} %` : `not dropped: ${(share * 100).toFixed(1)} % resident`} before ${tool.cmd.split('/').pop()} (${files.map((f) => f.split('/').pop()).join(', ')})`,
      );
    const t = timed(tool.cmd, tool.args, tool.okCodes);
    tool.check?.(t);
    into.push(t);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      once(peer, p);
      once(mine, h);
    } else {
      once(mine, h);
      once(peer, p);
    }
  }
  const peerFig = toolFigure(p);
  const mineFig = toolFigure(h);
  return {
    peer: peerFig,
    hopdump: mineFig,
    ratio: peerFig.seconds / mineFig.seconds,
    residency: { min: Math.min(...shares), max: Math.max(...shares) },
    holds: shares.every((s) => holds(condition, s)),
  };
}

/** Generates a file once and keeps it. */
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

const label = (n: number) => (n >= 1e6 ? `${n / 1e6}m` : `${n / 1e3}k`);

interface ReadSpec {
  packets: number;
  format: 'pcap' | 'pcapng';
  snaplen?: number;
  warmTarget: number;
}

/** The files of issue 18's targets; quick mode: the same roles, smaller. */
function readSpecs(quick: boolean): ReadSpec[] {
  const [small, medium, large] = quick ? [100_000, 200_000, 500_000] : [1_000_000, 2_000_000, 10_000_000];
  return [
    { packets: small, format: 'pcap', warmTarget: 1.0 },
    { packets: medium, format: 'pcap', warmTarget: 1.2 },
    { packets: medium, format: 'pcapng', warmTarget: 1.2 },
    { packets: large, format: 'pcap', warmTarget: 1.2 },
    { packets: large, format: 'pcapng', warmTarget: 1.2 },
    { packets: large, format: 'pcap', snaplen: 128, warmTarget: 1.5 },
  ];
}

function readBench(spec: ReadSpec, runs: number, conditions: Condition[]): ReadFigure {
  const name = `mix-${label(spec.packets)}${spec.snaplen ? `-snap${spec.snaplen}` : ''}.${spec.format}`;
  const file = cached(name, (p) =>
    generateCapture(p, {
      packets: spec.packets,
      format: spec.format,
      ...(spec.snaplen ? { snaplen: spec.snaplen } : {}),
    }),
  );
  const peer: Tool = { cmd: 'tcpdump', args: ['-nn', '-r', file, '-w', '/dev/null'] };
  const mine: Tool = {
    cmd: HOPDUMP,
    args: ['read', '--stats', '--json', file],
    check: (t) => {
      const got = (JSON.parse(t.stdout) as { packets: number }).packets;
      if (got !== spec.packets)
        throw new Error(`hopdump read --stats counted ${got} packets, expected ${spec.packets}`);
    },
  };
  const fig: ReadFigure = {
    file,
    packets: spec.packets,
    bytes: statSync(file).size,
    warmTarget: spec.warmTarget,
  };
  // A file under 1 GB takes a second or less a run, where the noise of this shared machine (and
  // of its virtual disk, cold) weighs most: twice the runs and one more (7 by default).
  const n = fig.bytes < 1e9 ? runs * 2 + 1 : runs;
  for (const c of conditions) fig[c] = compare([file], peer, mine, n, c);
  return fig;
}

function capinfosPackets(f: string): number {
  const r = spawnSync('capinfos', ['-M', '-c', '-r', '-T', f], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\t').pop());
}

function matchBench(perHop: number, runs: number, conditions: Condition[]): MatchFigure {
  const files = [0, 1, 2, 3].map((i) => join(DATA, `hop${i}-${label(perHop)}.pcap`));
  if (!files.every((f) => existsSync(f))) {
    const t = Date.now();
    generateHops(files, { packets: perHop, snaplen: 128, rate: 100_000, flows: 20_000 });
    console.log(`  generated 4 hop files in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  let notice = '';
  const peer: Tool = { cmd: 'mergecap', args: ['-w', '/dev/null', ...files] };
  // Exit 1 is analyze finding loss (the generated last hop loses 1 % of packets).
  const mine: Tool = {
    cmd: HOPDUMP,
    args: ['analyze', '--order', 'given', '--target', TARGET_IP, '--window', '1', '--json', ...files],
    okCodes: [0, 1],
    check: (t) => {
      const report = JSON.parse(t.stdout) as { notices: string[] };
      notice = report.notices.find((n) => n.startsWith('all traffic')) ?? '';
    },
  };
  const fig: MatchFigure = {
    files,
    packets: files.reduce((n, f) => n + capinfosPackets(f), 0),
    bytes: files.reduce((n, f) => n + statSync(f).size, 0),
    notice: '',
  };
  for (const c of conditions) fig[c] = compare(files, peer, mine, runs, c);
  fig.notice = notice;
  return fig;
}

/** The same analyze by the single executable, warm: its time and peak RSS. */
function exeAnalyzeBench(files: string[], runs: number): ExeAnalyzeFigure | undefined {
  if (!existsSync(EXE)) return undefined;
  warmUp(files);
  const t: Timed[] = [];
  for (let i = 0; i < runs; i++)
    t.push(
      timed(EXE, ['analyze', '--order', 'given', '--target', TARGET_IP, '--window', '1', '--json', ...files], [0, 1]),
    );
  return { seconds: median(t.map((x) => x.seconds)), rssMb: Math.max(...t.map((x) => x.rssKb)) / 1024, runs };
}

/** Start-up on its own: a tiny capture (10 packets), page cache warm, wall time of each process. */
function startupBench(runs: number): StartupFigure {
  const tinyPackets = 10;
  const tiny = cached(`tiny-${tinyPackets}.pcap`, (f) => generateCapture(f, { packets: tinyPackets }));
  const wall = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore', env });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const v: number[] = [];
  const s: number[] = [];
  const t: number[] = [];
  wall(HOPDUMP, ['read', '--stats', tiny]); // the first run loads node and the tree into the page cache
  for (let i = 0; i < runs; i++) {
    v.push(wall(HOPDUMP, ['--version']));
    s.push(wall(HOPDUMP, ['read', '--stats', tiny]));
    t.push(wall('tcpdump', ['-nn', '-r', tiny, '-w', '/dev/null']));
  }
  const fig: StartupFigure = { runs, tinyPackets, versionMs: median(v), readStatsMs: median(s), tcpdumpMs: median(t) };
  if (existsSync(EXE)) {
    const noCa = { ...process.env };
    delete noCa.NODE_EXTRA_CA_CERTS;
    const figure = (env: NodeJS.ProcessEnv) => {
      const ev: number[] = [];
      const es: number[] = [];
      wall(EXE, ['read', '--stats', tiny], env);
      for (let i = 0; i < runs; i++) {
        // Interleaved with bin/hopdump again: the same moments of a shared machine.
        v.push(wall(HOPDUMP, ['--version']));
        ev.push(wall(EXE, ['--version'], env));
        s.push(wall(HOPDUMP, ['read', '--stats', tiny]));
        es.push(wall(EXE, ['read', '--stats', tiny], env));
      }
      return { versionMs: median(ev), readStatsMs: median(es) };
    };
    fig.exe = figure(noCa);
    if (process.env.NODE_EXTRA_CA_CERTS) fig.exe.withCaCerts = figure(process.env);
    fig.versionMs = median(v);
    fig.readStatsMs = median(s);
  }
  return fig;
}

export interface PcapBenchOptions {
  quick: boolean;
  /** Medians of this many runs (default 3; quick 1). */
  runs?: number;
  /** Only these parts: startup, reads, match, live, fuzz (default all). */
  parts?: string[];
  /** Only these conditions (default both). */
  conditions?: Condition[];
}

export async function runPcapBench(o: PcapBenchOptions): Promise<PcapBenchReport> {
  const t0 = Date.now();
  const load0 = loadavg()[0]!;
  const runs = o.runs ?? (o.quick ? 1 : 3);
  // The old HOPDUMP_BENCH_PART=match|live still selects one part.
  const parts = o.parts ?? (process.env.HOPDUMP_BENCH_PART ? [process.env.HOPDUMP_BENCH_PART] : undefined);
  const want = (p: string) => !parts || parts.includes(p);
  const conditions = o.conditions ?? ['warm', 'cold'];
  console.log(
    `pcap engine benchmark (data in ${DATA}; ${o.quick ? 'quick' : 'full'}; medians of ${runs}; ${conditions.join(' and ')})`,
  );
  const partial: Omit<PcapBenchReport, 'targets'> = {
    machine: machine(),
    quick: o.quick,
    runs,
    load: { start: load0, end: load0 },
    seconds: 0,
    reads: [],
  };
  if (want('startup')) {
    partial.startup = startupBench(Math.max(10, runs));
    const s = partial.startup;
    console.log(
      `  start-up: hopdump --version ${s.versionMs.toFixed(0)} ms, read --stats of ${s.tinyPackets} packets ${s.readStatsMs.toFixed(0)} ms; tcpdump -r ${s.tcpdumpMs.toFixed(0)} ms`,
    );
    if (s.exe)
      console.log(
        `  start-up, single executable: --version ${s.exe.versionMs.toFixed(0)} ms, read --stats ${s.exe.readStatsMs.toFixed(0)} ms${s.exe.withCaCerts ? ` (with NODE_EXTRA_CA_CERTS: ${s.exe.withCaCerts.versionMs.toFixed(0)} / ${s.exe.withCaCerts.readStatsMs.toFixed(0)} ms)` : ''}`,
      );
  }
  if (want('reads')) {
    for (const spec of readSpecs(o.quick)) {
      const f = readBench(spec, runs, conditions);
      partial.reads.push(f);
      const show = (c: CondFigure | undefined, n: string) =>
        c
          ? `${n} tcpdump ${c.peer.seconds.toFixed(2)} s / hopdump ${c.hopdump.seconds.toFixed(2)} s = ${c.ratio.toFixed(2)}×${c.holds ? '' : ' (condition not held)'}`
          : '';
      console.log(
        `  ${f.file.split('/').pop()}: ${[show(f.warm, 'warm'), show(f.cold, 'cold')].filter(Boolean).join('; ')}`,
      );
    }
  }
  if (want('match')) {
    const m = matchBench(o.quick ? 500_000 : 10_000_000, runs, conditions);
    partial.match = m;
    for (const c of conditions) {
      const f = m[c]!;
      console.log(
        `  analyze 4 hop files ${c}: hopdump ${f.hopdump.seconds.toFixed(2)} s (RSS ${f.hopdump.rssMb.toFixed(0)} MB), mergecap ${f.peer.seconds.toFixed(2)} s = ${f.ratio.toFixed(2)}×${f.holds ? '' : ' (condition not held)'}`,
      );
    }
    const xa = exeAnalyzeBench(m.files, runs);
    if (xa) {
      partial.exeAnalyze = xa;
      console.log(
        `  analyze 4 hop files warm, single executable: ${xa.seconds.toFixed(2)} s, RSS ${xa.rssMb.toFixed(0)} MB`,
      );
    }
  }
  if (want('live')) {
    try {
      partial.live = await liveBench({
        prefix: LIVE_PREFIX,
        totals: o.quick
          ? [25_000, 50_000, LIVE_TOTAL_PPS]
          : [25_000, 50_000, LIVE_TOTAL_PPS, 150_000, 200_000, 300_000, 400_000],
        target: LIVE_TOTAL_PPS,
        seconds: o.quick ? 2 : 5,
        source: (packets: number, path: LivePath) =>
          cached(`live-stream-${label(packets)}.pcap`, (f) =>
            generateCapture(f, {
              packets,
              flows: 2000,
              rate: 25_000,
              towards: { srcMac: path.srcMac, dstMac: path.guestMac, dstIp: TARGET_IP },
            }),
          ),
        log: (l) => console.log(l),
      });
    } catch (err) {
      partial.live = {
        hops: 4,
        seconds: 0,
        timer: '',
        steps: [],
        highestOkPps: 0,
        note: `not measured: ${(err as Error).message.split('\n')[0]}`,
      };
      console.log(`  live: ${partial.live.note}`);
    }
  }
  if (want('fuzz')) {
    const f = runFuzz(o.quick ? 20_000 : 100_000);
    partial.fuzz = {
      inputs: f.inputs,
      clean: f.clean,
      formatErrors: f.formatErrors,
      crashes: f.crashes,
      slowestMs: f.slowestMs,
    };
    const small = partial.reads[0]?.file ?? join(DATA, `mix-${label(readSpecs(o.quick)[0]!.packets)}.pcap`);
    if (existsSync(small)) partial.collisions = collisionRate(small);
  }
  partial.load.end = loadavg()[0]!;
  partial.seconds = (Date.now() - t0) / 1000;
  const report: PcapBenchReport = { ...partial, targets: evaluateTargets(partial) };
  console.log('');
  console.log(formatReport(report));
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n(${OUT}; the run took ${(report.seconds / 60).toFixed(1)} min)`);
  return report;
}
