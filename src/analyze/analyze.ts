import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { CaptureParser, decodePacket } from '../capture/packets.js';
import { guestArpUnresolved } from '../checks/guest-arp-unresolved.js';
import { guestNoReply } from '../checks/guest-no-reply.js';
import { runChecks } from '../checks/index.js';
import { serviceNotListening } from '../checks/service-not-listening.js';
import { unknownLocated } from '../checks/unknown.js';
import { upstreamNoTraffic } from '../checks/upstream-no-traffic.js';
import { Correlator } from '../correlate/correlate.js';
import type { HopPacket } from '../correlate/types.js';
import { environmentError, usageError } from '../errors.js';
import type { Topology } from '../model/topology.js';
import { HopRoleSchema, type Hop, type HopRole, type Path } from '../path/types.js';
import type { Report } from '../report/schema.js';

export interface AnalyzeOptions {
  files: string[];
  order: 'given' | 'auto';
  /** The address the traffic is for; inferred when absent. */
  target?: string;
  /** Capture-time window after which a packet not seen further is counted lost. */
  settleSeconds?: number;
  version: string;
}

interface Source {
  file: string;
  /** pcapng interface id -> hop, filled as interfaces are declared. */
  ifaces: Map<number, { name: string; description?: string }>;
}

/** Packets of one file, decoded, in file order, a chunk at a time (bounded memory). */
async function* filePackets(file: string, fileIndex: number, onIface: (id: number, name: string, description?: string) => void): AsyncGenerator<{ iface: number; p: HopPacket }> {
  const queue: Array<{ iface: number; p: HopPacket }> = [];
  const parser = new CaptureParser(file, {
    onInterface: (i) => onIface(i.id, i.name ?? basename(file), i.description),
    onPacket: (iface, tsNs, data, orig, linkType) => queue.push({ iface, p: decodePacket(fileIndex, tsNs, data, orig, linkType) }),
  });
  let stream;
  try {
    stream = createReadStream(file, { highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parser.push(chunk);
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') throw environmentError(`cannot read ${file}: ${e.code}`);
    throw environmentError(e.message);
  }
  try {
    parser.end(true);
  } catch (err) {
    throw environmentError((err as Error).message);
  }
}

/** Every (file, interface) pair becomes a hop; packets arrive merged in time order. */
async function* merged(sources: Source[], hopOf: (file: number, iface: number) => number): AsyncGenerator<HopPacket> {
  const iters = sources.map((s, i) =>
    filePackets(s.file, i, (id, name, description) => {
      s.ifaces.set(id, { name, ...(description ? { description } : {}) });
      hopOf(i, id);
    }),
  );
  try {
    const heads: Array<{ iface: number; p: HopPacket } | undefined> = [];
    for (const it of iters) heads.push((await it.next()).value ?? undefined);
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (best < 0 || h.p.tsNs < heads[best]!.p.tsNs)) best = i;
      }
      if (best < 0) return;
      const h = heads[best]!;
      h.p.hop = hopOf(best, h.iface);
      yield h.p;
      const next = await iters[best]!.next();
      heads[best] = next.done ? undefined : next.value;
    }
  } finally {
    // Stopping early (the first pass) closes every file.
    await Promise.all(iters.map((it) => it.return(undefined)));
  }
}

/** The address most packets go to as a connection start or echo request. */
function inferTarget(packets: HopPacket[]): string | undefined {
  const votes = new Map<string, number>();
  for (const p of packets) {
    const starter = (p.proto === 'tcp' && p.tcpFlags === 'S') || (p.proto === 'icmp' && p.icmpType === 8) || (p.proto === 'icmp6' && p.icmpType === 128);
    if (starter && p.dst) votes.set(p.dst, (votes.get(p.dst) ?? 0) + 1);
  }
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * Hop order from the evidence: for packets to the target seen at several
 * hops, the hop that saw it first (earlier timestamp, higher TTL) comes
 * first. Each pair of hops votes; hops are ranked by their wins.
 */
function inferOrder(packets: HopPacket[], hopCount: number, target: string): number[] {
  const byFp = new Map<string, HopPacket[]>();
  for (const p of packets) {
    // Packets to the target, and ARP for it (broadcast: it crosses every L2 hop in order).
    const forTarget = p.kind === 'arp' ? p.arpTargetIp === target && p.arpOp === 1 : p.dst === target;
    if (!forTarget) continue;
    const list = byFp.get(p.natFp) ?? [];
    list.push(p);
    byFp.set(p.natFp, list);
  }
  const wins = new Array<number>(hopCount).fill(0);
  for (const list of byFp.values()) {
    for (const a of list) {
      for (const b of list) {
        if (a.hop === b.hop) continue;
        const earlier = a.ttl !== undefined && b.ttl !== undefined && a.ttl !== b.ttl ? a.ttl > b.ttl : a.tsNs < b.tsNs;
        if (earlier) wins[a.hop]!++;
      }
    }
  }
  return [...Array(hopCount).keys()].sort((x, y) => wins[y]! - wins[x]! || x - y);
}

const EMPTY_TOPOLOGY: Topology = { schemaVersion: 1, host: 'capture files', collectedAt: new Date(0).toISOString(), root: '', namespaces: [], warnings: [] };

/**
 * `hopdump analyze`: the same correlation and loss verdict as diagnose, on
 * pcap/pcapng files captured by hand at several points (no host checks).
 * Two passes over the files: a look at their start to name the target and
 * order the hops, then the whole, streamed, in bounded memory.
 */
export async function analyze(o: AnalyzeOptions): Promise<Report> {
  if (o.files.length === 0) throw usageError('analyze needs at least one capture file');
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  // Pass 1: the first packets of every file, every interface as its own hop.
  const sources: Source[] = o.files.map((file) => ({ file, ifaces: new Map() }));
  const hopIds: string[] = [];
  const hopOf = (f: number, iface: number) => {
    const id = `${f}:${iface}`;
    let h = hopIds.indexOf(id);
    if (h < 0) h = hopIds.push(id) - 1;
    return h;
  };
  const sample: HopPacket[] = [];
  const SAMPLE = 200_000;
  for await (const p of merged(sources, hopOf)) {
    sample.push(p);
    if (sample.length >= SAMPLE) break;
  }
  const target = o.target ?? inferTarget(sample);
  if (!target) throw usageError('could not tell which address the traffic is for', 'name it with --target ADDR');
  const hopCount = hopIds.length;
  const order = o.order === 'given' ? [...Array(hopCount).keys()] : inferOrder(sample, hopCount, target);
  sample.length = 0;

  // The hops, in path order.
  const position = new Map(order.map((h, i) => [h, i]));
  const hops: Hop[] = order.map((h, i) => {
    const [f, iface] = hopIds[h]!.split(':').map(Number) as [number, number];
    const info = sources[f]!.ifaces.get(iface);
    const described = HopRoleSchema.safeParse(info?.description);
    const role: HopRole = described.success
      ? described.data
      : i === 0
        ? 'uplink'
        : i === order.length - 1
          ? 'guest-nic'
          : i === order.length - 2
            ? 'backend'
            : 'bridge-port';
    // hopdump's own capture.pcapng names interfaces "netns/ifname".
    const named = info?.name?.includes('/') ? info.name.split('/') : undefined;
    return {
      netns: named ? named[0]! : 'file',
      ifname: named ? named.slice(1).join('/') : info?.name && info.name !== basename(sources[f]!.file) ? `${basename(sources[f]!.file)}:${info.name}` : basename(sources[f]!.file),
      kind: 'other',
      role,
      seesTransit: true,
      isTarget: i === order.length - 1,
      via: i === 0 ? 'start' : 'veth',
      mtu: 0,
      addresses: [],
      ...(info?.description && !described.success ? { note: info.description } : {}),
    };
  });
  const path: Path = {
    target: { query: target, type: 'ip', netns: hops.at(-1)!.netns, ifname: hops.at(-1)!.ifname, address: target },
    hops,
    complete: true,
    notes: [o.order === 'given' ? 'hop order as given on the command line' : 'hop order inferred from timestamps and TTLs of packets to the target'],
  };

  // Pass 2: everything, streamed through the correlator.
  const correlator = new Correlator({
    hops,
    observed: hops.map(() => true),
    targetAddresses: [target],
    probeAddresses: [],
    nat: true,
    settleAfterNs: BigInt(Math.round((o.settleSeconds ?? 5) * 1e9)),
  });
  // An interface that first shows up after the sampled start has no place on the path.
  const remap = (f: number, iface: number) => {
    const h = hopIds.indexOf(`${f}:${iface}`);
    return h < 0 ? -1 : position.get(h)!;
  };
  let skipped = 0;
  for await (const p of merged(sources.map((s) => ({ file: s.file, ifaces: new Map() })), remap)) {
    if (p.hop < 0) {
      skipped++;
      continue;
    }
    p.data = EMPTY;
    correlator.add(p);
  }
  const correlation = correlator.finish();
  const { causes, notices } = await runChecks(
    { topology: EMPTY_TOPOLOGY, path, correlation, probes: [], targetAddresses: [target], probesFromOutside: true, passive: true, sourceAddresses: [] },
    [upstreamNoTraffic, serviceNotListening, guestArpUnresolved, guestNoReply, unknownLocated],
  );
  const status: Report['status'] = !correlation.loss ? 'ok' : correlation.complete['from-target'] > 0 ? 'degraded' : 'broken';
  return {
    schemaVersion: 1,
    tool: { name: 'hopdump', version: o.version },
    mode: 'analyze',
    startedAt,
    target: { query: target, netns: path.target.netns, ifname: path.target.ifname, address: target },
    path,
    probes: [
      {
        kind: 'passive',
        address: target,
        command: `hopdump analyze ${o.files.map((f) => basename(f)).join(' ')}`,
        from: 'capture files',
        sent: correlation.complete['to-target'] + correlation.incomplete['to-target'],
        answered: correlation.complete['from-target'],
        outcome: 'observed',
        detail: `${correlation.packets} packets in ${o.files.length} file${o.files.length === 1 ? '' : 's'}, ${hops.length} hops`,
      },
    ],
    hops: correlation.hopCounts,
    status,
    loss: correlation.loss,
    causes,
    instead: correlation.instead,
    traces: correlation.traces,
    captureFile: null,
    notices: [...notices, ...(skipped ? [`${skipped} packets on interfaces that first appeared late were not placed on the path`] : [])],
    timing: { discoverMs: 0, captureStartMs: 0, windowMs: 0, analysisMs: Date.now() - t0, totalMs: Date.now() - t0 },
  };
}

const EMPTY = new Uint8Array(0);
