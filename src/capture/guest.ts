import { PassThrough } from 'node:stream';
import { libvirtConnection } from '../collect/domains.js';
import {
  agentCommand,
  guestCloseFile,
  guestExecStart,
  guestExecStatus,
  guestKill,
  guestReadFile,
  guestTryOpen,
  type GuestExecResult,
} from '../host/guest-agent.js';
import { shiftPcap } from '../pcap/shift.js';
import { sleep } from '../util/sleep.js';
import { randomBytes } from 'node:crypto';
import { environmentError } from '../errors.js';
import type { Host } from '../host/host.js';
import type { HopCapture } from './tcpdump.js';

/**
 * A hop inside a libvirt guest (netns "guest:DOMAIN"): tcpdump runs in the
 * guest through its agent, writing a file that is fetched back when the
 * capture stops; the bytes then go to the reader like a tcpdump stream, so the
 * guest's NIC becomes one more interface of capture.pcapng. `hypervisor` is
 * the namespace the lab's libvirtd belongs to (undefined = the host's).
 */
export function startGuestHopCapture(
  host: Host,
  hypervisor: string | undefined,
  netns: string,
  ifname: string,
  filter: string,
  maxLifetimeMs: number,
): HopCapture {
  const domain = netns.slice('guest:'.length);
  const uri = libvirtConnection(hypervisor)?.uri;
  const stream = new PassThrough();
  let failure: string | undefined;
  const cap = startGuestCapture(host, uri, domain, ifname, filter || undefined, { maxLifetimeMs });
  // The guest's clock is its own (an unsynchronised RTC under TCG was 0.7 s off here): measured
  // once through the agent and taken out of the guest's timestamps, so latencies across hops hold.
  // Three samples; the one with the shortest round trip bounds the error best (NTP's rule).
  const offset = (async () => {
    let best: { rtt: number; off: bigint } | undefined;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.timeOrigin + performance.now();
      const g = await agentCommand(host, uri, domain, { execute: 'guest-get-time' });
      const t1 = performance.timeOrigin + performance.now();
      if (typeof g !== 'number') continue;
      const off = BigInt(Math.round(g)) - BigInt(Math.round(((t0 + t1) / 2) * 1e6));
      if (!best || t1 - t0 < best.rtt) best = { rtt: t1 - t0, off };
    }
    return best?.off ?? 0n;
  })().catch(() => 0n);
  const listening = cap.ready;
  listening.catch((err: unknown) => {
    failure = err instanceof Error ? err.message : String(err);
  });
  return {
    netns,
    ifname,
    stdout: stream,
    listening,
    get failure() {
      return failure;
    },
    async stop() {
      try {
        const bytes = await cap.stop();
        stream.end(shiftPcap(bytes, await offset));
        return { stats: {} };
      } catch (err) {
        stream.end();
        return { stats: {}, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

export interface GuestCapture {
  /** Resolves once tcpdump has its capture open (the pcap file exists): start probing then. */
  readonly ready: Promise<void>;
  /** Ends tcpdump (SIGINT, so it flushes), fetches the file, removes it from the guest. */
  stop(): Promise<Buffer>;
}

/**
 * tcpdump inside the guest writing to a file in its /tmp, bounded by the
 * guest's `timeout` so it ends even if hopdump never calls stop. `filter` is
 * one argv element (a BPF expression), never a shell string.
 */
export function startGuestCapture(
  host: Host,
  uri: string | undefined,
  domain: string,
  ifname: string,
  filter: string | undefined,
  options: { maxLifetimeMs: number; snaplen?: number },
): GuestCapture {
  const file = `/tmp/hopdump-${randomBytes(6).toString('hex')}.pcap`;
  const lifetimeS = Math.max(2, Math.ceil(options.maxLifetimeMs / 1000));
  // -p: never promiscuous; --immediate-mode and -U: each packet reaches the file at once (libpcap's
  // TPACKET_V3 ring otherwise holds a block up to 1 s, and SIGINT drops it); -Z root: the guest may
  // have no tcpdump user.
  const argv = [
    'timeout',
    String(lifetimeS),
    'tcpdump',
    '-p',
    '-n',
    '--immediate-mode',
    '-U',
    '-Z',
    'root',
    '-i',
    ifname,
    '-s',
    String(options.snaplen ?? 262144),
    '-w',
    file,
  ];
  if (filter) argv.push('--', filter);
  const started = guestExecStart(host, uri, domain, argv);
  const ready = (async () => {
    const pid = await started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const handle = await guestTryOpen(host, uri, domain, file);
      if (handle !== undefined) {
        await guestCloseFile(host, uri, domain, handle);
        return;
      }
      const done = await guestExecStatus(host, uri, domain, pid);
      if (done)
        throw environmentError(
          `tcpdump in guest ${domain} ended at once: ${done.stderr.toString('utf8').trim().split('\n').pop() ?? ''}`,
        );
      if (Date.now() > deadline)
        throw environmentError(`tcpdump in guest ${domain} did not open ${ifname} within 10 s`);
      await sleep(50);
    }
  })();
  ready.catch(() => undefined);
  const stop = async (): Promise<Buffer> => {
    const pid = await started;
    await ready.catch(() => undefined);
    await guestKill(host, uri, domain, pid, 'INT');
    const deadline = Date.now() + 10_000;
    let status: GuestExecResult | undefined;
    while (!(status = await guestExecStatus(host, uri, domain, pid))) {
      if (Date.now() > deadline) {
        await guestKill(host, uri, domain, pid, 'KILL');
        break;
      }
      await sleep(50);
    }
    try {
      return await guestReadFile(host, uri, domain, file);
    } catch (err) {
      const why = status?.stderr.toString('utf8').trim().split('\n').pop();
      throw environmentError(`no capture from guest ${domain}${why ? `: ${why}` : ''}`, undefined, err);
    } finally {
      await guestExecStart(host, uri, domain, ['rm', '-f', file]).catch(() => undefined);
    }
  };
  return { ready, stop };
}

/** Captures on a guest interface for durationMs and returns the pcap bytes. */
export async function guestCapture(
  host: Host,
  uri: string | undefined,
  domain: string,
  ifname: string,
  filter: string | undefined,
  durationMs: number,
): Promise<Buffer> {
  const capture = startGuestCapture(host, uri, domain, ifname, filter, { maxLifetimeMs: durationMs + 30_000 });
  try {
    await capture.ready;
  } catch (err) {
    await capture.stop().catch(() => undefined);
    throw err;
  }
  await sleep(durationMs);
  return capture.stop();
}
