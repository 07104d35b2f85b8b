// The live benchmark: one stream crossing four captured hops of a path at once, as diagnose sees
// it on a busy host, captured by one hopdump process (live-step.ts, diagnose's capture code);
// the peer is the same four tcpdumps writing to /dev/null. A ramp of rates finds the highest
// one with no kernel drops and every packet read at every hop.
//
//   NS-src: eth0 ──veth── NS-hv: uplink ─ bridge ─ backend ──veth── NS-guest: eth0
//   (sender)                                                          (the target)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { captureArgv, parseStats, snaplenForMtu, type CaptureStats } from '../../src/capture/tcpdump.js';
import { buildFilter } from '../../src/capture/bpf.js';
import type { Hop } from '../../src/model/path.js';
import type { LiveStepResult, LiveStepSpec, ReplayResult } from './live-step.js';
import { startReplay } from './live-step.js';

const STEP = fileURLToPath(new URL('./live-step.js', import.meta.url));
export const TARGET_IP = '192.0.2.10';
const GUEST_MAC = '52:54:00:12:34:56';
const SRC_MAC = '02:00:5e:10:00:01';

export interface LivePath {
  prefix: string;
  src: string;
  hv: string;
  guest: string;
  hops: Hop[];
  guestMac: string;
  srcMac: string;
}

const sh = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });

function hop(
  netns: string,
  ifname: string,
  kind: Hop['kind'],
  role: Hop['role'],
  via: Hop['via'],
  more: Partial<Hop> = {},
): Hop {
  return { netns, ifname, kind, role, seesTransit: true, isTarget: false, via, mtu: 1500, addresses: [], ...more };
}

/** Namespaces PREFIX-src, PREFIX-hv, PREFIX-guest; the hops as diagnose's path finder gives them. */
export function setUpPath(prefix: string): LivePath {
  const src = `${prefix}-src`;
  const hv = `${prefix}-hv`;
  const guest = `${prefix}-guest`;
  tearDownPath(prefix);
  for (const ns of [src, hv, guest]) sh('ip', 'netns', 'add', ns);
  sh(
    'ip',
    'link',
    'add',
    'eth0',
    'netns',
    src,
    'address',
    SRC_MAC,
    'type',
    'veth',
    'peer',
    'name',
    'uplink',
    'netns',
    hv,
  );
  sh(
    'ip',
    'link',
    'add',
    'backend',
    'netns',
    hv,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    guest,
    'address',
    GUEST_MAC,
  );
  sh('ip', '-n', hv, 'link', 'add', 'brhv', 'type', 'bridge');
  sh('ip', '-n', hv, 'link', 'set', 'uplink', 'master', 'brhv');
  sh('ip', '-n', hv, 'link', 'set', 'backend', 'master', 'brhv');
  sh('ip', '-n', guest, 'addr', 'add', `${TARGET_IP}/24`, 'dev', 'eth0');
  // The guest's MAC known to the bridge on its port, as after the guest's first frame.
  sh('bridge', '-n', hv, 'fdb', 'add', GUEST_MAC, 'dev', 'backend', 'master', 'static');
  for (const [ns, dev] of [
    [src, 'eth0'],
    [hv, 'uplink'],
    [hv, 'backend'],
    [hv, 'brhv'],
    [guest, 'eth0'],
  ] as const)
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
  waitForwarding(hv, ['uplink', 'backend']);
  const hops: Hop[] = [
    hop(src, 'eth0', 'veth', 'uplink', 'start'),
    hop(hv, 'uplink', 'veth', 'bridge-port', 'veth'),
    hop(hv, 'brhv', 'bridge', 'bridge', 'bridge', { seesTransit: false }),
    hop(hv, 'backend', 'veth', 'backend', 'bridge'),
    hop(guest, 'eth0', 'veth', 'guest-nic', 'veth', { isTarget: true, addresses: [TARGET_IP] }),
  ];
  return { prefix, src, hv, guest, hops, guestMac: GUEST_MAC, srcMac: SRC_MAC };
}

/**
 * A port forwards only once the bridge has seen its carrier, which the kernel's link watch
 * reports up to a second after the link came up: frames sent before are dropped by the bridge
 * without a counter (a first measurement lost a third of its packets that way).
 */
function waitForwarding(netns: string, ports: string[]): void {
  const t = Date.now();
  for (;;) {
    const out = execFileSync('bridge', ['-n', netns, 'link', 'show'], { encoding: 'utf8' });
    if (ports.every((p) => new RegExp(`^\\d+: ${p}(@\\S+)?: .*state forwarding`, 'm').test(out))) return;
    if (Date.now() - t > 10_000) throw new Error(`bridge ports ${ports.join(', ')} not forwarding: ${out}`);
    spawnSync('sleep', ['0.1']);
  }
}

export function tearDownPath(prefix: string): void {
  for (const role of ['src', 'hv', 'guest'])
    spawnSync('ip', ['netns', 'del', `${prefix}-${role}`], { stdio: 'ignore' });
}

export interface LiveStep {
  /** Packets per second summed over the captured hops (the stream's rate × hops). */
  totalPps: number;
  streamPps: number;
  packets: number;
  peer?: { stats: CaptureStats[]; replay: ReplayResult; error?: string };
  hopdump?: LiveStepResult;
  error?: string;
  /** 0 kernel drops at every tcpdump and every sent packet read at every hop. */
  ok: boolean;
}

/**
 * The sender (tcpreplay) fell behind the asked rate: the window closed before it had sent
 * everything, so packets it sent late were never in the window. Not a capture result.
 */
export function senderShort(s: LiveStep): boolean {
  const r = s.hopdump?.replay;
  return r !== undefined && !r.error && r.pps > 0 && r.pps < 0.95 * s.streamPps;
}

export function stepOk(r: LiveStepResult | undefined): boolean {
  if (!r || r.replay.error || r.replay.sent === 0) return false;
  return r.stats.every((s, i) => {
    if (r.read[i] === null) return true;
    return s?.droppedByKernel === 0 && r.read[i]! >= r.replay.sent;
  });
}

/** The peer: the same tcpdumps (same flags) writing to /dev/null, the same stream. */
async function peerStep(
  path: LivePath,
  spec: LiveStepSpec,
): Promise<{ stats: CaptureStats[]; replay: ReplayResult; error?: string }> {
  const filter = buildFilter([spec.target]);
  const captured = path.hops.filter((h) => h.seesTransit);
  const children = captured.map((h) => {
    const argv = captureArgv(
      { ifname: h.ifname, filter, maxLifetimeMs: 0, snaplen: snaplenForMtu(h.mtu) },
      '/dev/null',
    );
    const c = spawn('ip', ['netns', 'exec', h.netns, 'setpriv', '--pdeathsig', 'KILL', '--', ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<void>((r) => c.on('close', () => r()));
    return { c, err: () => err, exited };
  });
  try {
    const t = Date.now();
    while (!children.every((x) => x.err().includes('listening on'))) {
      if (Date.now() - t > 10_000) throw new Error('tcpdump did not start listening');
      await new Promise((r) => setTimeout(r, 50));
    }
    const replay = await startReplay(spec, Date.now());
    await new Promise((r) => setTimeout(r, spec.drainMs));
    for (const x of children) x.c.kill('SIGTERM');
    await Promise.all(children.map((x) => x.exited));
    return { stats: children.map((x) => parseStats(x.err())), replay };
  } finally {
    for (const x of children) if (x.c.exitCode === null) x.c.kill('SIGKILL');
  }
}

/** hopdump's step in its own process, with bin/hopdump's node flags. */
function hopdumpStep(spec: LiveStepSpec): Promise<LiveStepResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--max-semi-space-size=2', STEP, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('close', (code) => {
      if (code !== 0) reject(new Error(`live step failed (${code}): ${err.trim().slice(-500)}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as LiveStepResult);
    });
  });
}

export interface LiveBench {
  hops: number;
  seconds: number;
  timer: string;
  steps: LiveStep[];
  /** The step at the target rate (the first of the ramp). */
  target?: LiveStep;
  /** Highest total rate with ok; 0 when none. */
  highestOkPps: number;
  note?: string;
}

/**
 * The ramp: each total rate (summed over the captured hops) for `seconds`, the peer then hopdump.
 * Every rate up to `target` is measured; above it, the ramp stops after the first rate hopdump
 * does not keep up with.
 */
export async function liveBench(o: {
  prefix: string;
  source: (packets: number, path: LivePath) => string;
  totals: number[];
  target: number;
  seconds: number;
  timer?: string;
  log?: (line: string) => void;
}): Promise<LiveBench> {
  // nano: tcpreplay sleeps between packets; its default (gtod) spins and takes a whole core,
  // which on a 2-core machine is half of what the capture has.
  const timer = o.timer ?? 'nano';
  const path = setUpPath(o.prefix);
  const captured = path.hops.filter((h) => h.seesTransit).length;
  const steps: LiveStep[] = [];
  try {
    const maxPackets = Math.ceil((Math.max(...o.totals) / captured) * o.seconds);
    const source = o.source(maxPackets, path);
    for (const total of o.totals) {
      const streamPps = Math.round(total / captured);
      const spec: LiveStepSpec = {
        hops: path.hops,
        target: TARGET_IP,
        senderNetns: path.src,
        senderIf: 'eth0',
        source,
        pps: streamPps,
        packets: Math.round(streamPps * o.seconds),
        timer,
        drainMs: 2000,
      };
      const step: LiveStep = { totalPps: total, streamPps, packets: spec.packets, ok: false };
      try {
        step.peer = await peerStep(path, spec);
        step.hopdump = await hopdumpStep(spec);
        step.ok = stepOk(step.hopdump);
      } catch (err) {
        step.error = (err as Error).message.split('\n')[0] ?? '';
      }
      steps.push(step);
      o.log?.(formatLiveStep(step));
      if (!step.ok && total >= o.target) break;
    }
  } finally {
    tearDownPath(o.prefix);
  }
  const okSteps = steps.filter((s) => s.ok);
  return {
    hops: captured,
    seconds: o.seconds,
    timer,
    steps,
    ...(steps[0] ? { target: steps[0] } : {}),
    highestOkPps: okSteps.length ? Math.max(...okSteps.map((s) => s.totalPps)) : 0,
  };
}

const n = (x: number | null | undefined) => (x == null ? '?' : String(x));

export function formatLiveStep(s: LiveStep): string {
  const head = `  live ${s.totalPps} packets/s total (${s.streamPps}/s × 4 hops, ${s.packets} sent):`;
  if (s.error) return `${head} error: ${s.error}`;
  const parts: string[] = [];
  if (s.peer)
    parts.push(
      `peer tcpdump -w /dev/null: dropped by kernel ${s.peer.stats.map((x) => n(x.droppedByKernel)).join('/')}, captured ${s.peer.stats.map((x) => n(x.captured)).join('/')}`,
    );
  const h = s.hopdump;
  if (h) {
    const hops = h.read.map((r, i) => [r, h.stats[i]] as const).filter(([r]) => r !== null);
    parts.push(
      `hopdump: sent ${h.replay.sent}${h.replay.error ? ` (${h.replay.error})` : ''} at ${h.replay.pps.toFixed(0)}/s, dropped by kernel ${hops.map(([, st]) => n(st?.droppedByKernel)).join('/')}, read ${hops.map(([r]) => n(r)).join('/')}; CPU ${h.cpuSeconds.toFixed(1)} s in ${(h.windowMs / 1000).toFixed(1)} s, RSS ${h.maxRssMb.toFixed(0)} MB${h.notKept ? `, ${h.notKept} not kept (bound)` : ''}`,
    );
  }
  const verdict = s.ok ? 'ok' : senderShort(s) ? 'the sender fell behind (not a capture result)' : 'NOT ok';
  return `${head} ${parts.join('; ')} → ${verdict}`;
}
