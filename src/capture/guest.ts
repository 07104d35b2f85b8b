import { PassThrough } from 'node:stream';
import { libvirtConnection } from '../collect/domains.js';
import { agentCommand, startGuestCapture } from '../collect/guest-agent.js';
import type { Host } from '../host/host.js';
import type { HopCapture } from './tcpdump.js';

/**
 * A hop inside a libvirt guest (netns "guest:DOMAIN"): tcpdump runs in the
 * guest through its agent, writing a file that is fetched back when the
 * capture stops; the bytes then go to the reader like a tcpdump stream, so the
 * guest's NIC becomes one more interface of capture.pcapng. `hypervisor` is
 * the namespace the lab's libvirtd belongs to (undefined = the host's).
 */
export function startGuestHopCapture(host: Host, hypervisor: string | undefined, netns: string, ifname: string, filter: string, maxLifetimeMs: number): HopCapture {
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

/**
 * Moves every record of a classic pcap file by -offsetNs (micro- or
 * nanosecond files, either byte order). Anything that is not a pcap is left
 * as it is for the reader to reject.
 */
export function shiftPcap(buf: Buffer, offsetNs: bigint): Buffer {
  if (offsetNs === 0n || buf.length < 24) return buf;
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) return buf;
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const unit = nano ? 1_000_000_000n : 1_000_000n;
  const shift = nano ? offsetNs : offsetNs / 1000n;
  const out = Buffer.from(buf);
  const r32 = (o: number) => (le ? out.readUInt32LE(o) : out.readUInt32BE(o));
  const w32 = (o: number, v: number) => (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  for (let o = 24; o + 16 <= out.length; ) {
    const t = BigInt(r32(o)) * unit + BigInt(r32(o + 4)) - shift;
    w32(o, Number(t / unit));
    w32(o + 4, Number(t % unit));
    o += 16 + r32(o + 8);
  }
  return out;
}
