import type { DropEvent } from '../model/evidence.js';
import { sleep } from '../util/sleep.js';
import type { HopPacket } from '../model/packet.js';
import type { Host } from '../host/host.js';
import type { Hop } from '../model/path.js';
import { startDropTracer, type DropTracer } from './drops.js';
import { runProbe, type ProbeResult, type ProbeSpec } from './probe.js';
import { startGuestHopCapture } from './guest.js';
import { openSpool, type Spool } from './spool.js';
import { snaplenForMtu, startCapture, type CaptureStats, type HopCapture } from './tcpdump.js';

/** Turns one hop's pcap stream into packets; resolves when the stream ends. */
export type PacketReader = (
  stream: NodeJS.ReadableStream,
  hop: number,
  onPacket: (p: HopPacket) => void,
) => Promise<void>;

export interface SessionOptions {
  host: Host;
  hops: Hop[];
  filter: string;
  reader: PacketReader;
  /** Probes to send, in order; empty in passive mode. */
  probes: ProbeSpec[];
  /** Namespace probes are sent from; undefined = the host itself. */
  fromNetns: string | undefined;
  /** The namespace seen as the host (the lab's hypervisor): where a guest's libvirtd is. */
  hypervisor?: string;
  /** Passive mode: how long to watch. */
  durationMs?: number;
  /** Extra wait after the last probe for late replies. */
  graceMs?: number;
  promiscuous?: boolean;
  /** Bound on the number of packets kept (the rest are counted only). */
  maxPackets?: number;
  /** Called with a one-line status while capturing (the CLI's progress line). */
  progress?: (line: string) => void;
  /** Trace kernel drop reasons during the window (default true). */
  traceDrops?: boolean;
  /** Called once when every capture listens and the window begins (the live benchmark starts its sender). */
  onWindowStart?: () => void;
  /** Bound on each hop's spool file (spool.ts); the hop's capture stops there. Default 1 GiB. */
  spoolMaxBytes?: number;
}

export interface SessionResult {
  packets: HopPacket[];
  observed: boolean[];
  /** Hops whose capture ran and then failed (interface deleted): packets after that are unseen, not unwatched. */
  failedMidway: boolean[];
  notObservedReason: Array<string | undefined>;
  stats: Array<CaptureStats | undefined>;
  probes: ProbeResult[];
  packetsDropped: number;
  /** Kernel drop reasons during the window; undefined when tracing was off or unavailable. */
  drops: DropEvent[] | undefined;
  captureStartMs: number;
  /** Epoch ms when every capture was listening and the window began. */
  windowStartedAt: number;
  windowMs: number;
  notices: string[];
}

/**
 * One tcpdump per capturable hop, all confirmed listening before the first
 * probe; the probes; a grace period; then every capture stopped and drained.
 * Every tcpdump is ended on every exit path (the host layer registers it).
 */
export async function runSession(o: SessionOptions): Promise<SessionResult> {
  const packets: HopPacket[] = [];
  const max = o.maxPackets ?? 500_000;
  let packetsDropped = 0;
  const observed = o.hops.map(() => false);
  const failedMidway = o.hops.map(() => false);
  const notObservedReason: Array<string | undefined> = o.hops.map((h) =>
    h.seesTransit
      ? undefined
      : h.kind === 'openvswitch'
        ? 'inside Open vSwitch: not capturable'
        : 'bridged frames are not seen on the bridge device',
  );
  const notices: string[] = [];
  const maxLifetimeMs = 30_000 + (o.durationMs ?? 0) + o.probes.reduce((s, p) => s + p.count * 3000, 0);
  const captures: Array<{ index: number; cap: HopCapture; done: Promise<void>; spooled: boolean }> = [];
  // The host's tcpdumps write to files that hopdump follows (spool.ts); a guest's capture comes
  // through its agent's pipe.
  const spool: Spool | undefined = o.hops.some((h) => h.seesTransit && !h.netns.startsWith('guest:'))
    ? await openSpool()
    : undefined;
  try {
    return await captureAndProbe();
  } finally {
    await spool?.remove();
  }

  async function captureAndProbe(): Promise<SessionResult> {
    for (const [index, hop] of o.hops.entries()) {
      if (!hop.seesTransit) continue;
      const guest = hop.netns.startsWith('guest:');
      const spooled = !guest && spool !== undefined;
      const cap =
        guest || spool === undefined
          ? startGuestHopCapture(o.host, o.hypervisor, hop.netns, hop.ifname, o.filter, maxLifetimeMs)
          : startCapture(o.host, {
              ...(hop.netns === 'host' ? {} : { netns: hop.netns }),
              ifname: hop.ifname,
              filter: o.filter,
              maxLifetimeMs,
              promiscuous: o.promiscuous === true,
              snaplen: snaplenForMtu(hop.mtu),
              spoolFile: { ...(await spool.create(`hop-${index}.pcap`)), maxBytes: o.spoolMaxBytes ?? 2 ** 30 },
            });
      const done = o
        .reader(cap.stdout, index, (p) => {
          if (packets.length < max) packets.push(p);
          else packetsDropped++;
        })
        .catch((err: unknown) => {
          // A tcpdump that never started left nothing to read: the hop already says why.
          return cap.listening.then(
            () => {
              notices.push(
                `capture on ${hop.netns}/${hop.ifname}: ${err instanceof Error ? err.message : String(err)}`,
              );
            },
            () => undefined,
          );
        });
      captures.push({ index, cap, done, spooled });
    }
    const tStart = Date.now();
    let tracer: DropTracer | undefined;
    if (o.traceDrops !== false)
      tracer = startDropTracer(
        o.host,
        o.hops.map((h) => h.ifname),
        maxLifetimeMs,
      );
    try {
      const [started, tracerNotice] = await Promise.all([
        Promise.allSettled(captures.map((c) => c.cap.listening)),
        tracer?.ready,
      ]);
      if (tracerNotice) {
        notices.push(tracerNotice);
        await tracer?.stop();
        tracer = undefined;
      }
      const captureStartMs = Date.now() - tStart;
      started.forEach((s, i) => {
        const { index } = captures[i]!;
        if (s.status === 'fulfilled') observed[index] = true;
        else notObservedReason[index] = s.reason instanceof Error ? s.reason.message : String(s.reason);
      });
      const t0 = Date.now();
      o.onWindowStart?.();
      const probeResults: ProbeResult[] = [];
      if (o.probes.length === 0) {
        const duration = o.durationMs ?? 5000;
        const end = t0 + duration;
        while (Date.now() < end) {
          o.progress?.(
            `watching ${Math.ceil((end - Date.now()) / 1000)}s more, ${packets.length} packets on ${observed.filter(Boolean).length} hops`,
          );
          await sleep(Math.min(500, end - Date.now()));
        }
      } else {
        // Every probe series at once: the window is as long as the slowest one.
        const names = o.probes.map((s) => `${s.kind}${s.port ? `:${s.port}` : ''}`).join(', ');
        const ticker = setInterval(
          () => o.progress?.(`probing ${names}, ${packets.length} packets captured so far`),
          250,
        );
        try {
          probeResults.push(...(await Promise.all(o.probes.map((spec) => runProbe(o.host, spec, o.fromNetns)))));
        } finally {
          clearInterval(ticker);
        }
        await sleep(o.graceMs ?? 300);
      }
      const windowMs = Date.now() - t0;
      const stats: Array<CaptureStats | undefined> = o.hops.map(() => undefined);
      await Promise.all(
        captures.map(async ({ index, cap, done, spooled }) => {
          const r = await cap.stop();
          // A spool file is finite once tcpdump has stopped: read all of it. A pipe gets a bound.
          if (spooled) await done;
          else await settleWithin(done, 3000);
          stats[index] = r.stats;
          const failure = r.error ?? cap.failure;
          if (failure && observed[index]) {
            observed[index] = false;
            failedMidway[index] = true;
            notObservedReason[index] = `capture failed: ${failure}`;
          }
        }),
      );
      const drops = tracer ? await tracer.stop() : undefined;
      tracer = undefined;
      if (packetsDropped > 0) notices.push(`${packetsDropped} packets beyond the first ${max} were not kept`);
      return {
        packets,
        observed,
        failedMidway,
        notObservedReason,
        stats,
        probes: probeResults,
        packetsDropped,
        drops,
        captureStartMs,
        windowStartedAt: t0,
        windowMs,
        notices,
      };
    } finally {
      await Promise.all([
        ...captures.map((c) => c.cap.stop().catch(() => undefined)),
        tracer?.stop().catch(() => undefined),
      ]);
    }
  }
}

/** Waits for `p`, at most `ms`, without leaving a timer behind. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}
