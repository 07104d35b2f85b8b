import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { fromDecoded } from '../correlate/packets.js';
import { guestArpUnresolved } from '../checks/guest-arp-unresolved.js';
import { guestNoReply } from '../checks/guest-no-reply.js';
import { runChecks } from '../checks/index.js';
import { serviceNotListening } from '../checks/service-not-listening.js';
import { unknownLocated } from '../checks/unknown.js';
import { upstreamNoTraffic } from '../checks/upstream-no-traffic.js';
import { Correlator } from '../correlate/correlate.js';
import type { HopPacket } from '../model/packet.js';
import { environmentError, fileError, usageError } from '../errors.js';
import type { Topology } from '../model/topology.js';
import { HopRoleSchema, type Hop, type HopRole, type Path } from '../model/path.js';
import {
  Decoded,
  decode,
  HopMatcher,
  MergedReaders,
  PcapFormatError,
  segments as matchSegments,
  type PcapInterface,
} from '../pcap/index.js';
import { assembleReport, passiveProbeReport } from '../verdict/assemble.js';
import { AheadFailure, DecodedMerge } from './decode-ahead.js';
import { aboutTarget, ipv4Number, matchKey } from './target.js';
import type { Report } from '../model/report.js';

export interface AnalyzeOptions {
  files: string[];
  order: 'given' | 'auto';
  /** The address the traffic is for; inferred when absent. */
  target?: string;
  /** Capture-time window after which a packet not seen further is counted lost. */
  settleSeconds?: number;
  /** 2: decode on a second thread (decode-ahead.ts); 1: all on this one. Default: 2 for files over 64 MiB on 2+ cores. */
  threads?: number;
  /** Told whether the second pass ran on two threads (tests). */
  onThreads?: (threads: number) => void;
  version: string;
}

/** Opens the files side by side; file errors become one-line environment errors. */
function openMerged(files: string[]): MergedReaders {
  try {
    return new MergedReaders(files);
  } catch (err) {
    throw fileErrorOf(err);
  }
}

function fileErrorOf(err: unknown): Error {
  return err instanceof PcapFormatError ? environmentError(err.message) : fileError(err);
}

/**
 * Every (file, interface) pair is a hop, numbered as first seen. Runs fn for
 * each packet in merged time order with the reader positioned on it; fn
 * returns false to stop.
 */
function eachMerged(
  files: string[],
  hopOf: (file: number, iface: PcapInterface) => number,
  fn: (hop: number, m: MergedReaders, i: number) => boolean | void,
): void {
  const m = openMerged(files);
  // Hops are numbered in declaration order (files as given, then their interfaces), not by first packet.
  m.readers.forEach((r, i) => (r.onInterface = (iface) => void hopOf(i, iface)));
  // The last interface and hop of each reader: most packets repeat them.
  const lastIface: Array<PcapInterface | undefined> = files.map(() => undefined);
  const lastHop: number[] = files.map(() => -1);
  try {
    for (;;) {
      let i: number;
      try {
        i = m.next();
      } catch (err) {
        throw fileErrorOf(err);
      }
      if (i < 0) return;
      const r = m.readers[i]!;
      const iface = r.interfaces[r.ifId]!;
      if (iface !== lastIface[i]) {
        lastIface[i] = iface;
        lastHop[i] = hopOf(i, iface);
      }
      if (fn(lastHop[i]!, m, i) === false) return;
    }
  } finally {
    m.close();
  }
}

/** The address most packets go to as a connection start or echo request. */
function inferTarget(packets: HopPacket[]): string | undefined {
  const votes = new Map<string, number>();
  for (const p of packets) {
    const starter =
      (p.proto === 'tcp' && p.tcpFlags === 'S') ||
      (p.proto === 'icmp' && p.icmpType === 8) ||
      (p.proto === 'icmp6' && p.icmpType === 128);
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

const EMPTY_TOPOLOGY: Topology = {
  schemaVersion: 1,
  host: 'capture files',
  collectedAt: new Date(0).toISOString(),
  root: '',
  namespaces: [],
  warnings: [],
};

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
  const first = samplePass(o);
  const path = guessPath(o, first);
  const pass = streamPass(o, first, path.hops);
  const { correlation } = pass;
  const { causes, notices } = await runChecks(
    {
      topology: EMPTY_TOPOLOGY,
      path,
      correlation,
      probes: [],
      targetAddresses: [first.target],
      probesFromOutside: true,
      passive: true,
      sourceAddresses: [],
    },
    [upstreamNoTraffic, serviceNotListening, guestArpUnresolved, guestNoReply, unknownLocated],
  );
  return assembleReport({
    mode: 'analyze',
    version: o.version,
    startedAt,
    target: { query: first.target, netns: path.target.netns, ifname: path.target.ifname, address: first.target },
    path,
    probes: [
      passiveProbeReport(correlation, {
        address: first.target,
        command: `hopdump analyze ${o.files.map((f) => basename(f)).join(' ')}`,
        from: 'capture files',
        detail: `${correlation.packets} packets in ${o.files.length} file${o.files.length === 1 ? '' : 's'}, ${path.hops.length} hops`,
      }),
    ],
    correlation,
    passive: true,
    causes,
    notices: [
      ...notices,
      allTrafficNotice(pass.allJourneys, pass.allDuplicates, pass.allTraffic, path.hops),
      ...(pass.skipped
        ? [`${pass.skipped} packets on interfaces that first appeared late were not placed on the path`]
        : []),
    ],
    timing: { discoverMs: 0, captureStartMs: 0, windowMs: 0, analysisMs: Date.now() - t0, totalMs: Date.now() - t0 },
  });
}

interface FirstLook {
  target: string;
  /** Every (file, interface) pair seen, as a hop id. */
  hopIds: Array<{ file: number; iface: PcapInterface }>;
  /** Hop ids in path order. */
  order: number[];
}

/** Pass 1: the first packets of every file, every interface as its own hop: the target and the hop order. */
function samplePass(o: AnalyzeOptions): FirstLook {
  const hopIds: FirstLook['hopIds'] = [];
  const hopIndex = new Map<PcapInterface, number>();
  const hopOf = (f: number, iface: PcapInterface) => {
    let h = hopIndex.get(iface);
    if (h === undefined) {
      h = hopIds.push({ file: f, iface }) - 1;
      hopIndex.set(iface, h);
    }
    return h;
  };
  const sample: HopPacket[] = [];
  // With the target named, only its packets are sampled (they order the hops); else the
  // first packets of all, to find the target. Either way a bounded number of objects.
  const SAMPLE = o.target ? 20_000 : 50_000;
  // Named target and given order: the sample only checks the target appears, a short look suffices.
  const SCAN = o.order === 'given' ? 200_000 : 2_000_000;
  const given = o.target
    ? { t4: o.target.includes(':') ? -1 : ipv4Number(o.target), v6: o.target.includes(':') }
    : undefined;
  const d = new Decoded();
  let scanned = 0;
  eachMerged(o.files, hopOf, (hop, m, i) => {
    const r = m.readers[i]!;
    decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
    if (given && !aboutTarget(d, given.t4, given.v6)) return ++scanned < SCAN;
    const p = fromDecoded(hop, r.tsNs(), d, r.origLen, false);
    p.data = EMPTY;
    sample.push(p);
    return sample.length < SAMPLE;
  });
  const target = o.target ?? inferTarget(sample);
  if (!target) throw usageError('could not tell which address the traffic is for', 'name it with --target ADDR');
  const order = o.order === 'given' ? [...Array(hopIds.length).keys()] : inferOrder(sample, hopIds.length, target);
  return { target, hopIds, order };
}

/** The hops in path order, named after their files and interfaces (hopdump's own pcapng says "netns/ifname" and the role). */
function guessPath(o: AnalyzeOptions, first: FirstLook): Path {
  const { order, hopIds } = first;
  const hops: Hop[] = order.map((h, i) => {
    const f = hopIds[h]!.file;
    const info = hopIds[h]!.iface;
    const fileName = basename(o.files[f]!);
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
    const named = info?.name?.includes('/') ? info.name.split('/') : undefined;
    return {
      netns: named ? named[0]! : 'file',
      ifname: named
        ? named.slice(1).join('/')
        : info?.name && info.name !== fileName
          ? `${fileName}:${info.name}`
          : fileName,
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
  return {
    target: {
      query: first.target,
      type: 'ip',
      netns: hops.at(-1)!.netns,
      ifname: hops.at(-1)!.ifname,
      address: first.target,
    },
    hops,
    complete: true,
    notes: [
      o.order === 'given'
        ? 'hop order as given on the command line'
        : 'hop order inferred from timestamps and TTLs of packets to the target',
    ],
  };
}

/**
 * Pass 2: every packet of every file, streamed: each through the engine's matcher (all traffic, by
 * fingerprint), the target's own also through the correlator (journeys, loss, causes).
 */
function streamPass(o: AnalyzeOptions, first: FirstLook, hops: Hop[]) {
  const { target, hopIds, order } = first;
  const hopCount = hopIds.length;
  const position = new Map(order.map((h, i) => [h, i]));
  const correlator = new Correlator({
    hops,
    observed: hops.map(() => true),
    targetAddresses: [target],
    probeAddresses: [],
    nat: true,
    settleAfterNs: BigInt(Math.round((o.settleSeconds ?? 5) * 1e9)),
  });
  const windowNs = Math.round((o.settleSeconds ?? 5) * 1e9);
  const matcher = new HopMatcher(Math.min(32, hopCount), windowNs);
  const isV6 = target.includes(':');
  const t4 = isV6 ? -1 : ipv4Number(target);
  // An interface that first shows up after the sampled start has no place on the path.
  const secondPass = new Map<PcapInterface, number>();
  const firstPassByFileAndId = new Map(hopIds.map((h, idx) => [`${h.file}:${h.iface.section}:${h.iface.id}`, idx]));
  const remap = (f: number, iface: PcapInterface) => {
    let h = secondPass.get(iface);
    if (h === undefined) {
      const seen = firstPassByFileAndId.get(`${f}:${iface.section}:${iface.id}`);
      h = seen === undefined ? -1 : position.get(seen)!;
      secondPass.set(iface, h);
    }
    return h;
  };
  let skipped = 0;
  const d = new Decoded();
  const otherPerHop = new Float64Array(hopCount);
  const threads = o.threads ?? (availableParallelism() >= 2 && totalSize(o.files) >= 64 << 20 ? 2 : 1);
  o.onThreads?.(threads >= 2 ? 2 : 1);
  if (threads >= 2) {
    const hopsOf: Array<[string, number]> = [];
    for (const [key, seen] of firstPassByFileAndId) hopsOf.push([key, position.get(seen)!]);
    const merged = new DecodedMerge({ files: o.files, hops: hopsOf, t4, isV6 });
    try {
      for (;;) {
        let f: number;
        try {
          f = merged.next();
        } catch (err) {
          throw err instanceof AheadFailure ? aheadError(err) : err;
        }
        if (f < 0) break;
        const R = merged.cur;
        const at = merged.at;
        const hop = R[at + 4]!;
        if (hop < 0) {
          skipped++;
          continue;
        }
        if (hop < 32) matcher.addRecord(hop, R, at);
        if (R[at + 5]! >= 0) {
          const data = merged.data(f);
          decode(data, 0, data.length, R[at + 8]!, d);
          addTarget(hop, BigInt(R[at]!) * 1_000_000_000n + BigInt(R[at + 1]!), R[at + 7]!);
        } else otherPerHop[hop] = otherPerHop[hop]! + 1;
      }
    } finally {
      merged.close();
    }
    return finishPass();
  }
  // The hot loop (every packet of every file), written out: no callback, no allocation
  // but for the target's own packets.
  const merged = openMerged(o.files);
  const lastIface: Array<PcapInterface | undefined> = o.files.map(() => undefined);
  const lastHop: number[] = o.files.map(() => -1);
  try {
    for (;;) {
      let i: number;
      try {
        i = merged.next();
      } catch (err) {
        throw fileErrorOf(err);
      }
      if (i < 0) break;
      const r = merged.readers[i]!;
      const iface = r.interfaces[r.ifId]!;
      if (iface !== lastIface[i]) {
        lastIface[i] = iface;
        lastHop[i] = remap(i, iface);
      }
      const hop = lastHop[i]!;
      if (hop < 0) {
        skipped++;
        continue;
      }
      // The matcher keys on the NAT-tolerant identity; the target's packets are decoded in full.
      const about = matchKey(r.buf, r.dataOff, r.caplen, r.linkType, d, t4, isV6);
      if (hop < 32) matcher.addPacket(hop, r, d);
      if (about) {
        decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
        addTarget(hop, r.tsNs(), r.origLen);
      } else otherPerHop[hop] = otherPerHop[hop]! + 1;
    }
  } finally {
    merged.close();
  }
  return finishPass();

  /** A target's packet, decoded in `d`, to the correlator (its bytes are not kept). */
  function addTarget(hop: number, tsNs: bigint, wireLength: number): void {
    const p = fromDecoded(hop, tsNs, d, wireLength, false);
    p.data = EMPTY;
    correlator.add(p);
  }

  function finishPass() {
    otherPerHop.forEach((n, hop) => correlator.addOther(hop, undefined, n));
    const all = matcher.finish();
    return {
      correlation: correlator.finish(),
      allJourneys: all.journeys,
      allDuplicates: all.duplicates,
      allTraffic: matchSegments(all, [...Array(Math.min(32, hopCount)).keys()]),
      skipped,
    };
  }
}

function totalSize(files: string[]): number {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      /* opened already: a vanished file fails in the pass itself */
    }
  }
  return n;
}

/** A file the decoding thread could not read: the same one-line error as on one thread. */
function aheadError(err: AheadFailure): Error {
  const e = err.detail;
  if (e.format) return fileErrorOf(new PcapFormatError(e.format.source, e.format.offset, e.format.reason));
  const plain = Object.assign(new Error(e.message ?? 'decode worker failed'), e.code ? { code: e.code } : {});
  return fileErrorOf(plain);
}

const EMPTY = new Uint8Array(0);

function allTrafficNotice(
  journeys: number,
  duplicates: number,
  s: ReturnType<typeof matchSegments>,
  hops: Hop[],
): string {
  const name = (i: number) => (hops[i] ? `${hops[i].netns}/${hops[i].ifname}` : `hop ${i}`);
  const top = s.segments[0];
  const stop = top
    ? `; ${s.segments.reduce((n, x) => n + x.packets, 0)} stopped on the way, most (${top.packets}) ${top.direction === 'forward' ? 'towards the target' : 'back from it'} between ${name(top.lastSeen)} and ${name(top.firstMissing)}`
    : '; none stopped between hops';
  return `all traffic in the files: ${journeys} distinct packets matched across the hops by fingerprint, ${s.complete} crossed every hop from where they were first seen${duplicates ? `, ${duplicates} duplicate sightings` : ''}${stop}`;
}
