// The pcap benchmark's figures, its targets with PASS/FAIL, and the tables printed at the end of
// `make bench-pcap` in the README's format (Markdown, to paste as they are).
import type { CollisionResult } from './collisions.js';
import { evenRuns, formatMachine, type Machine } from './conditions.js';
import { senderShort, type LiveBench, type LiveStep } from './live.js';

export interface ToolFigure {
  /** Median wall time. */
  seconds: number;
  runs: number[];
  /** Peak RSS over the runs. */
  rssMb: number;
}

/** One figure under one condition: the peer and hopdump alternating in the same run. */
export interface CondFigure {
  peer: ToolFigure;
  hopdump: ToolFigure;
  /** Peer time / hopdump time (medians): above 1, hopdump is faster. */
  ratio: number;
  /** Page-cache residency of the input files just before each timed run: lowest and highest. */
  residency: { min: number; max: number };
  /** Whether every run was under its condition (warm: ≥ 99 % resident; cold: ≤ 2 %). */
  holds: boolean;
}

export interface ReadFigure {
  file: string;
  packets: number;
  bytes: number;
  /** Warm target: hopdump at least this many times tcpdump's speed. */
  warmTarget: number;
  warm?: CondFigure;
  cold?: CondFigure;
}

export interface MatchFigure {
  files: string[];
  packets: number;
  bytes: number;
  warm?: CondFigure;
  cold?: CondFigure;
  /** analyze's "all traffic in the files" notice (what it found). */
  notice: string;
}

export interface StartupFigure {
  runs: number;
  tinyPackets: number;
  versionMs: number;
  readStatsMs: number;
  tcpdumpMs: number;
  /**
   * The single executable (release/hopdump-linux-x64, when built), in an environment without
   * NODE_EXTRA_CA_CERTS (bin/hopdump removes it itself; an executable cannot: Node reads it before
   * any code), and with it when the benchmark's own environment sets it.
   */
  exe?: { versionMs: number; readStatsMs: number; withCaCerts?: { versionMs: number; readStatsMs: number } };
}

/** analyze of the same hop files by the single executable, warm (its peak RSS has the same bound). */
export interface ExeAnalyzeFigure {
  seconds: number;
  rssMb: number;
  runs: number;
}

export interface FuzzFigure {
  inputs: number;
  clean: number;
  formatErrors: number;
  crashes: number;
  slowestMs: number;
}

/** The collision figure is collisions.ts's result as measured. */
export type CollisionFigure = CollisionResult;

export type Status = 'PASS' | 'FAIL' | 'INVALID' | 'NOT MEASURED' | '—';

export interface TargetRow {
  target: string;
  measured: string;
  status: Status;
}

export interface PcapBenchReport {
  machine: Machine;
  quick: boolean;
  runs: number;
  /** Load average (1 min) when the run started and when it ended: the machine may be shared. */
  load: { start: number; end: number };
  seconds: number;
  startup?: StartupFigure;
  exeAnalyze?: ExeAnalyzeFigure;
  reads: ReadFigure[];
  match?: MatchFigure;
  live?: LiveBench;
  fuzz?: FuzzFigure;
  collisions?: CollisionFigure;
  targets: TargetRow[];
}

export const ANALYZE_RATIO = 1.25;
export const ANALYZE_RSS_MB = 150;
/** The executable's start-up may be this much slower than bin/hopdump's and still pass (noise). */
export const EXE_STARTUP_SLACK = 1.05;
export const COLD_RATIO = 1.0;
export const LIVE_TOTAL_PPS = 100_000;

const base = (f: string) => f.split('/').pop()!;
const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 1 : 0)} %`;
const x2 = (r: number) => `${r.toFixed(2)}×`;
const secs = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));

/** Why a figure is not under its condition, or undefined when it is. */
export function conditionNote(condition: 'warm' | 'cold', f: CondFigure): string | undefined {
  if (f.holds) return undefined;
  return condition === 'warm'
    ? `not resident: ${pct(f.residency.min)}`
    : `not dropped: ${pct(f.residency.max)} resident`;
}

function ratioTarget(what: string, want: number, condition: 'warm' | 'cold', f: CondFigure | undefined): TargetRow {
  const target = `${what}: ≥ ${want.toFixed(1)}× tcpdump`;
  if (!f) return { target, measured: 'not measured', status: 'NOT MEASURED' };
  const note = conditionNote(condition, f);
  if (note) return { target, measured: `${x2(f.ratio)} (${note})`, status: 'INVALID' };
  return { target, measured: x2(f.ratio), status: f.ratio >= want ? 'PASS' : 'FAIL' };
}

/** Every target of issue 18 against the figures measured. */
export function evaluateTargets(r: Omit<PcapBenchReport, 'targets'>): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const f of r.reads) rows.push(ratioTarget(`read --stats warm, ${base(f.file)}`, f.warmTarget, 'warm', f.warm));
  for (const f of r.reads) rows.push(ratioTarget(`read --stats cold, ${base(f.file)}`, COLD_RATIO, 'cold', f.cold));
  const m = r.match;
  const what = m ? `analyze ${m.files.length} × ${base(m.files[0]!).replace(/^hop\d+-/, '')}` : 'analyze';
  const mw = m?.warm;
  const speed = `${what} warm: wall ≤ ${(1 / ANALYZE_RATIO).toFixed(1)} × mergecap's (ratio ≥ ${ANALYZE_RATIO.toFixed(2)}×)`;
  const rss = `${what} warm: peak RSS < ${ANALYZE_RSS_MB} MB`;
  if (!mw) {
    rows.push({ target: speed, measured: 'not measured', status: 'NOT MEASURED' });
    rows.push({ target: rss, measured: 'not measured', status: 'NOT MEASURED' });
  } else {
    const note = conditionNote('warm', mw);
    const measured = `${secs(mw.hopdump.seconds)} s vs ${secs(mw.peer.seconds)} s: ${x2(mw.ratio)}`;
    rows.push(
      note
        ? { target: speed, measured: `${measured} (${note})`, status: 'INVALID' }
        : { target: speed, measured, status: mw.ratio >= ANALYZE_RATIO ? 'PASS' : 'FAIL' },
    );
    rows.push({
      target: rss,
      measured: `${mw.hopdump.rssMb.toFixed(0)} MB`,
      status: mw.hopdump.rssMb < ANALYZE_RSS_MB ? 'PASS' : 'FAIL',
    });
  }
  const xa = r.exeAnalyze;
  rows.push(
    xa
      ? {
          target: `${what} warm, single executable: peak RSS < ${ANALYZE_RSS_MB} MB`,
          measured: `${xa.rssMb.toFixed(0)} MB (${secs(xa.seconds)} s)`,
          status: xa.rssMb < ANALYZE_RSS_MB ? 'PASS' : 'FAIL',
        }
      : {
          target: `${what} warm, single executable: peak RSS < ${ANALYZE_RSS_MB} MB`,
          measured: 'not measured (make exe)',
          status: 'NOT MEASURED',
        },
  );
  const st = r.startup;
  for (const [label, exeMs, binMs] of [
    ['--version', st?.exe?.versionMs, st?.versionMs],
    ['read --stats of a 10-packet file', st?.exe?.readStatsMs, st?.readStatsMs],
  ] as const)
    rows.push(
      exeMs !== undefined && binMs !== undefined
        ? {
            target: `start-up, single executable ${label}: not slower than bin/hopdump (within ${Math.round((EXE_STARTUP_SLACK - 1) * 100)} %)`,
            measured: `${exeMs.toFixed(0)} ms vs ${binMs.toFixed(0)} ms`,
            status: exeMs <= binMs * EXE_STARTUP_SLACK ? 'PASS' : 'FAIL',
          }
        : {
            target: `start-up, single executable ${label}: not slower than bin/hopdump`,
            measured: 'not measured',
            status: 'NOT MEASURED',
          },
    );
  const mc = m?.cold;
  rows.push({
    target: `${what} cold (reported, no target)`,
    measured: mc
      ? `${secs(mc.hopdump.seconds)} s vs ${secs(mc.peer.seconds)} s: ${x2(mc.ratio)}${conditionNote('cold', mc) ? ` (${conditionNote('cold', mc)})` : ''}`
      : 'not measured',
    status: '—',
  });
  const live = r.live;
  const liveTarget = `live, 4 hops into one hopdump at ${LIVE_TOTAL_PPS / 1000}k packets/s total: 0 kernel drops at each tcpdump, every packet read`;
  const at = live?.steps.find((s) => s.totalPps === LIVE_TOTAL_PPS);
  if (!live || !at) rows.push({ target: liveTarget, measured: live?.note ?? 'not measured', status: 'NOT MEASURED' });
  else rows.push({ target: liveTarget, measured: liveMeasured(at), status: at.ok ? 'PASS' : 'FAIL' });
  rows.push({
    target: 'live: highest total rate with 0 drops and every packet read (reported)',
    measured: !live
      ? 'not measured'
      : live.highestOkPps > 0
        ? `${live.highestOkPps.toLocaleString('en-US')} packets/s${live.steps.every((s) => s.ok) ? ' (the top of the ramp)' : ''}`
        : `none of ${live.steps.map((s) => s.totalPps / 1000 + 'k').join(', ')}`,
    status: '—',
  });
  return rows;
}

function liveMeasured(s: LiveStep): string {
  const h = s.hopdump;
  if (s.error || !h) return s.error ?? 'not measured';
  const captured = h.read.map((r, i) => [r, h.stats[i]] as const).filter(([r]) => r !== null);
  const drops = captured.map(([, st]) => st?.droppedByKernel ?? '?').join('/');
  const read = captured.map(([r]) => r).join('/');
  return `dropped ${drops}; read ${read} of ${h.replay.sent}`;
}

const num = (n: number) => n.toLocaleString('en-US');
const size = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(0)} MB`);
const packetsText = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)} M` : `${+(n / 1e3).toFixed(0)} k`);

function cells(f: CondFigure | undefined, condition: 'warm' | 'cold'): [string, string] {
  if (!f) return ['—', '—'];
  const note = conditionNote(condition, f);
  return [
    `${secs(f.peer.seconds)} / ${secs(f.hopdump.seconds)} s`,
    `${x2(f.ratio)}${note ? ` (${note}: not counted)` : ''}`,
  ];
}

const mark = (s: Status) => (s === 'PASS' || s === '—' ? s : `**${s}**`);

/** The tables, Markdown, in the README's format. */
export function formatReport(r: PcapBenchReport): string {
  const out: string[] = [];
  out.push(
    `Machine: ${formatMachine(r.machine)}; load average ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end; medians of ${evenRuns(r.runs)} runs${r.reads.some((f) => f.bytes < 1e9) ? ` (${evenRuns(r.runs * 2 + 1)} for the captures under 1 GB)` : ''}, each tool first in half of them${r.quick ? ' (QUICK mode: small files, not the targets’ files)' : ''}; the run took ${r.seconds < 120 ? `${r.seconds.toFixed(0)} s` : `${(r.seconds / 60).toFixed(0)} min`}.`,
  );
  out.push('');
  if (r.reads.length || r.match) {
    out.push(
      '| benchmark | packets | size | warm: peer / hopdump | warm ratio | cold: peer / hopdump | cold ratio | peak RSS peer / hopdump |',
    );
    out.push('|---|---|---|---|---|---|---|---|');
    for (const f of r.reads) {
      const [wt, wr] = cells(f.warm, 'warm');
      const [ct, cr] = cells(f.cold, 'cold');
      const any = f.warm ?? f.cold;
      out.push(
        `| \`read --stats\` ${base(f.file)} vs tcpdump | ${packetsText(f.packets)} | ${size(f.bytes)} | ${wt} | ${wr} | ${ct} | ${cr} | ${any ? `${any.peer.rssMb.toFixed(0)} / ${any.hopdump.rssMb.toFixed(0)} MB` : '—'} |`,
      );
    }
    const m = r.match;
    if (m) {
      const [wt, wr] = cells(m.warm, 'warm');
      const [ct, cr] = cells(m.cold, 'cold');
      const any = m.warm ?? m.cold;
      out.push(
        `| \`analyze\` ${m.files.length} hop files (${m.files.map(base).join(', ')}) vs mergecap | ${packetsText(m.packets)} | ${size(m.bytes)} | ${wt} | ${wr} | ${ct} | ${cr} | ${any ? `${any.peer.rssMb.toFixed(0)} / ${any.hopdump.rssMb.toFixed(0)} MB` : '—'} |`,
      );
    }
    out.push('');
    out.push(
      'Peers: `tcpdump -nn -r FILE -w /dev/null`; `mergecap -w /dev/null FILES`. hopdump: `hopdump read --stats FILE`; `hopdump analyze --order given --target 192.0.2.10 --window 1 --json FILES`. Warm: read once before, ≥ 99 % resident (fincore) before each run; cold: `dd iflag=nocache count=0` before each run of each tool, residency checked.',
    );
    if (m?.notice) out.push(`analyze found: ${m.notice}`);
    out.push('');
  }
  if (r.startup) {
    const s = r.startup;
    out.push(`| start-up (median of ${s.runs}, a ${s.tinyPackets}-packet capture) | time |`);
    out.push('|---|---|');
    out.push(`| \`hopdump --version\` | ${s.versionMs.toFixed(0)} ms |`);
    out.push(`| \`hopdump read --stats tiny.pcap\` | ${s.readStatsMs.toFixed(0)} ms |`);
    out.push(`| \`tcpdump -nn -r tiny.pcap -w /dev/null\` | ${s.tcpdumpMs.toFixed(0)} ms |`);
    if (s.exe) {
      out.push(`| single executable \`hopdump --version\` | ${s.exe.versionMs.toFixed(0)} ms |`);
      out.push(`| single executable \`hopdump read --stats tiny.pcap\` | ${s.exe.readStatsMs.toFixed(0)} ms |`);
      if (s.exe.withCaCerts)
        out.push(
          `| single executable, NODE_EXTRA_CA_CERTS set: \`--version\` / \`read --stats\` | ${s.exe.withCaCerts.versionMs.toFixed(0)} / ${s.exe.withCaCerts.readStatsMs.toFixed(0)} ms |`,
        );
    }
    out.push('');
  }
  if (r.live) {
    const l = r.live;
    out.push(
      `| live: one stream at ${l.hops} hops (${l.seconds} s per rate) | sent per hop | peer: ${l.hops} × \`tcpdump -w /dev/null\`, dropped by kernel | hopdump (diagnose's capture): dropped by kernel | hopdump: read per hop | hopdump CPU, peak RSS | result |`,
    );
    out.push('|---|---|---|---|---|---|---|');
    for (const s of l.steps) {
      const h = s.hopdump;
      const capturedIdx = h ? h.read.map((r, i) => (r === null ? -1 : i)).filter((i) => i >= 0) : [];
      const drop = (x: number | undefined) => (x === undefined ? '?' : num(x));
      const peerDrops = s.peer ? s.peer.stats.map((x) => drop(x.droppedByKernel)).join(' / ') : '—';
      const drops = h ? capturedIdx.map((i) => drop(h.stats[i]?.droppedByKernel)).join(' / ') : '—';
      const read = h ? capturedIdx.map((i) => num(h.read[i]!)).join(' / ') : '—';
      const cpu = h
        ? `${h.cpuSeconds.toFixed(1)} s in ${(h.windowMs / 1000).toFixed(1)} s, ${h.maxRssMb.toFixed(0)} MB`
        : '—';
      const sent = h ? num(h.replay.sent) : num(s.packets);
      out.push(
        `| ${num(s.totalPps)} packets/s total (${num(s.streamPps)}/s × ${l.hops}) | ${sent} | ${peerDrops} | ${drops} | ${read} | ${cpu} | ${s.error ? `error: ${s.error}` : s.ok ? 'ok' : senderShort(s) ? `the sender reached only ${num(Math.round(h!.replay.pps))}/s: not measured` : '**dropped**'} |`,
      );
    }
    out.push('');
  }
  if (r.fuzz || r.collisions) {
    if (r.fuzz) {
      const f = r.fuzz;
      out.push(
        `Fuzz: ${num(f.inputs)} mutated inputs: ${f.crashes} crashes (slowest input ${f.slowestMs.toFixed(0)} ms); ${num(f.clean)} read cleanly, ${num(f.formatErrors)} clear errors with a byte offset.`,
      );
    }
    if (r.collisions) {
      const c = r.collisions;
      out.push(
        `Fingerprint collisions, ${num(c.packets)} mixed packets, ${num(c.distinctIdentities)} distinct identities: 64-bit ${c.collisions64}; 32-bit halves ${c.collisions32}${c.collisions32b !== undefined ? ` and ${c.collisions32b}` : ''} (birthday bound ≈${c.expected32.toFixed(0)}).`,
      );
    }
    out.push('');
  }
  out.push('| target | measured | result |');
  out.push('|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.target} | ${t.measured} | ${mark(t.status)} |`);
  return out.join('\n');
}
