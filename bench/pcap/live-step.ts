// One step of the live benchmark, in its own process run like bin/hopdump (same node flags):
// diagnose's capture code (runSession, passive, on the local host, with the pcap reader diagnose
// uses) on every hop of the path at once, while tcpreplay sends the stream into the path's first
// device. Prints one JSON line: what each tcpdump said, what this process read per hop, what
// tcpreplay sent.
import { spawn } from 'node:child_process';
import { buildFilter } from '../../src/capture/bpf.js';
import { runSession, type PacketReader } from '../../src/capture/session.js';
import { readHopPackets } from '../../src/correlate/packets.js';
import { localHost } from '../../src/host/local.js';
import type { Hop } from '../../src/model/path.js';
import type { CaptureStats } from '../../src/capture/tcpdump.js';

export interface LiveStepSpec {
  hops: Hop[];
  /** The stream's destination (the capture filter is diagnose's for it). */
  target: string;
  /** Where the sender runs and the device it sends on. */
  senderNetns: string;
  senderIf: string;
  source: string;
  /** Packets per second of the stream (each captured hop sees all of them). */
  pps: number;
  packets: number;
  /** tcpreplay's timer (gtod is a busy loop that takes a core; nano sleeps). */
  timer: string;
  /** How long the window stays open after the sender's expected end. */
  drainMs: number;
}

export interface ReplayResult {
  sent: number;
  failed: number;
  seconds: number;
  pps: number;
  /** Milliseconds from the window's start to tcpreplay's exit. */
  endedAtMs: number;
  error?: string;
}

export interface LiveStepResult {
  /** Per hop of spec.hops (null where not captured: this goes through JSON). */
  stats: Array<CaptureStats | null>;
  read: Array<number | null>;
  kept: number;
  notKept: number;
  replay: ReplayResult;
  windowMs: number;
  cpuSeconds: number;
  maxRssMb: number;
  notices: string[];
}

/** tcpreplay's closing statistics: "Actual: N packets (B bytes) sent in S seconds", "Rated: … X pps", "Failed packets: F". */
export function parseReplay(out: string): Omit<ReplayResult, 'endedAtMs'> {
  const actual = /Actual:\s*(\d+) packets .*? sent in ([\d.]+) seconds/.exec(out);
  const rated = /Rated:.*?([\d.]+) pps/.exec(out);
  const failed = /Failed packets:\s*(\d+)/.exec(out);
  return {
    sent: actual ? Number(actual[1]) : 0,
    seconds: actual ? Number(actual[2]) : 0,
    pps: rated ? Number(rated[1]) : 0,
    failed: failed ? Number(failed[1]) : 0,
  };
}

export function startReplay(spec: LiveStepSpec, t0: number): Promise<ReplayResult> {
  const argv = [
    'netns',
    'exec',
    spec.senderNetns,
    'tcpreplay',
    '-i',
    spec.senderIf,
    `--pps=${spec.pps}`,
    `--limit=${spec.packets}`,
    `--timer=${spec.timer}`,
    spec.source,
  ];
  const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const r = { ...parseReplay(out), endedAtMs: Date.now() - t0 };
      resolve(code === 0 ? r : { ...r, error: `tcpreplay exit ${code}: ${out.trim().split('\n').pop() ?? ''}` });
    });
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as LiveStepSpec;
  const read: Array<number | undefined> = spec.hops.map((h) => (h.seesTransit ? 0 : undefined));
  const reader: PacketReader = (stream, hop, onPacket) =>
    readHopPackets(stream, hop, (p) => {
      read[hop]!++;
      onPacket(p);
    });
  let replay: Promise<ReplayResult> | undefined;
  const cpu0 = process.cpuUsage();
  const session = await runSession({
    host: localHost(),
    hops: spec.hops,
    filter: buildFilter([spec.target]),
    reader,
    probes: [],
    fromNetns: undefined,
    durationMs: Math.ceil((spec.packets / spec.pps) * 1000) + spec.drainMs,
    onWindowStart: () => {
      replay = startReplay(spec, Date.now());
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const result: LiveStepResult = {
    stats: session.stats.map((x) => x ?? null),
    read: read.map((x) => x ?? null),
    kept: session.packets.length,
    notKept: session.packetsDropped,
    replay: replay ? await replay : { sent: 0, failed: 0, seconds: 0, pps: 0, endedAtMs: 0, error: 'not started' },
    windowMs: session.windowMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    notices: session.notices,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1]?.endsWith('live-step.js')) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`live step: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
