import type { Hop } from '../path/types.js';
import type { Direction, HopCounts, HopRef, Loss, Trace } from '../report/schema.js';
import type { HopPacket } from './types.js';

export interface CorrelateInput {
  hops: Hop[];
  /** Per hop: whether a capture ran there and produced a stream. */
  observed: boolean[];
  /**
   * Per hop: a capture that ran and then failed (its interface vanished).
   * Such a hop still counts where packets are expected: those after the
   * failure are lost there.
   */
  failedMidway?: boolean[];
  notObservedReason?: Array<string | undefined>;
  packets: HopPacket[];
  /** The target's own addresses. */
  targetAddresses: string[];
  /** Addresses probes were sent to when not the target's (a published port's). */
  probeAddresses: string[];
  /** Match across NAT (the probe goes to a published address). */
  nat: boolean;
  /** Addresses the probes come from: their ARP for the next hop is to-target traffic too. */
  sourceAddresses?: string[];
}

export type JourneyKind = 'request' | 'reply' | 'arp-request' | 'arp-reply' | 'error' | 'other';

/** One packet followed across the hops that saw it. */
export interface Journey {
  key: string;
  direction: Direction | 'other';
  kind: JourneyKind;
  /** Per hop index: the packet as captured there (first sighting). */
  seen: Map<number, HopPacket>;
  first: HopPacket;
}

export interface TargetBehaviour {
  /** IP packets to the target seen on the target's own NIC (the last hop). */
  requestsAtTargetNic: number;
  /** IP packets from the target seen anywhere. */
  ipFromTarget: number;
  rstFromTarget: HopPacket[];
  icmpErrors: HopPacket[];
  /** ARP requests the target sent, by the address it asked for. */
  arpAskedByTarget: Map<string, number>;
  /** ARP replies addressed to the target, seen on the target's NIC. */
  arpRepliesToTargetAtNic: number;
}

export interface Correlation {
  journeys: Journey[];
  hopCounts: HopCounts[];
  loss: Loss | null;
  /** Every incomplete segment with how many packets stopped there, most first. */
  segments: Array<Loss & { packets: number }>;
  instead: string[];
  traces: Trace[];
  target: TargetBehaviour;
  /** IP journeys per direction that crossed every observed hop after their first sighting. */
  complete: Record<Direction, number>;
  incomplete: Record<Direction, number>;
}

function hopRef(h: Hop): HopRef {
  return { netns: h.netns, ifname: h.ifname, role: h.role };
}

function classify(
  p: HopPacket,
  targets: Set<string>,
  probes: Set<string>,
  sources: Set<string>,
): { direction: Direction | 'other'; kind: JourneyKind } {
  if (p.kind === 'arp') {
    const request = p.arpOp === 1;
    const kind = request ? 'arp-request' : 'arp-reply';
    if (p.arpSenderIp && targets.has(p.arpSenderIp)) return { direction: 'from-target', kind };
    if (p.arpTargetIp && (targets.has(p.arpTargetIp) || probes.has(p.arpTargetIp))) return { direction: 'to-target', kind };
    // The sender resolving its next hop towards the target, and the answer to it.
    if (request && p.arpSenderIp && sources.has(p.arpSenderIp)) return { direction: 'to-target', kind };
    if (!request && p.arpTargetIp && sources.has(p.arpTargetIp)) return { direction: 'from-target', kind };
    return { direction: 'other', kind: 'other' };
  }
  if (p.kind !== 'ipv4' && p.kind !== 'ipv6') return { direction: 'other', kind: 'other' };
  const isError =
    (p.proto === 'icmp' && p.icmpType !== undefined && [3, 4, 5, 11, 12].includes(p.icmpType)) ||
    (p.proto === 'icmp6' && p.icmpType !== undefined && p.icmpType < 128);
  if (isError) return { direction: p.src && targets.has(p.src) ? 'from-target' : 'from-target', kind: 'error' };
  if (p.dst && (targets.has(p.dst) || probes.has(p.dst))) return { direction: 'to-target', kind: 'request' };
  if (p.src && (targets.has(p.src) || probes.has(p.src))) return { direction: 'from-target', kind: 'reply' };
  return { direction: 'other', kind: 'other' };
}

const fmtTs = (ns: bigint) => {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  return `${d.toISOString().slice(11, 23)}${String(Number(ns % 1_000_000n)).padStart(6, '0').slice(0, 3)}`;
};

/**
 * Groups the packets of every hop into journeys (the same packet at several
 * hops, by fingerprint), counts each hop per direction, and finds where the
 * traffic stops: for each direction, the last hop that saw a packet and the
 * first observed hop after it that did not.
 */
export function correlate(input: CorrelateInput): Correlation {
  const targets = new Set(input.targetAddresses);
  const probes = new Set(input.probeAddresses);
  const sources = new Set(input.sourceAddresses ?? []);
  const n = input.hops.length;
  const journeys = new Map<string, Journey>();
  const hopCounts: HopCounts[] = input.hops.map((h, i) => ({
    netns: h.netns,
    ifname: h.ifname,
    role: h.role,
    observed: input.observed[i] ?? false,
    ...(input.notObservedReason?.[i] ? { notObservedReason: input.notObservedReason[i]! } : {}),
    toTarget: 0,
    fromTarget: 0,
    arpRequests: 0,
    arpReplies: 0,
    other: 0,
  }));
  const target: TargetBehaviour = {
    requestsAtTargetNic: 0,
    ipFromTarget: 0,
    rstFromTarget: [],
    icmpErrors: [],
    arpAskedByTarget: new Map(),
    arpRepliesToTargetAtNic: 0,
  };
  const lastHop = n - 1;
  const sorted = [...input.packets].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.hop - b.hop));
  for (const p of sorted) {
    const { direction, kind } = classify(p, targets, probes, sources);
    const counts = hopCounts[p.hop];
    if (counts) {
      if (kind === 'arp-request') counts.arpRequests++;
      else if (kind === 'arp-reply') counts.arpReplies++;
      else if (direction === 'to-target') counts.toTarget++;
      else if (direction === 'from-target') counts.fromTarget++;
      else counts.other++;
    }
    if (kind === 'request' && p.hop === lastHop && input.hops[lastHop]?.isTarget) target.requestsAtTargetNic++;
    if ((kind === 'reply' || kind === 'error') && p.src && targets.has(p.src)) target.ipFromTarget++;
    if (kind === 'reply' && p.proto === 'tcp' && p.tcpFlags?.includes('R') && p.src && (targets.has(p.src) || probes.has(p.src))) {
      if (!target.rstFromTarget.some((x) => x.fp === p.fp)) target.rstFromTarget.push(p);
    }
    if (kind === 'error' && !target.icmpErrors.some((x) => x.fp === p.fp)) target.icmpErrors.push(p);
    if (kind === 'arp-request' && direction === 'from-target' && p.arpTargetIp) {
      if (p.hop === lastHop || !input.observed[lastHop]) {
        target.arpAskedByTarget.set(p.arpTargetIp, (target.arpAskedByTarget.get(p.arpTargetIp) ?? 0) + 1);
      }
    }
    if (kind === 'arp-reply' && direction === 'to-target' && p.hop === lastHop) target.arpRepliesToTargetAtNic++;

    const key = `${kind}:${input.nat ? p.natFp : p.fp}`;
    let j = journeys.get(key);
    if (!j) {
      j = { key, direction, kind, seen: new Map(), first: p };
      journeys.set(key, j);
    }
    if (!j.seen.has(p.hop)) j.seen.set(p.hop, p);
  }

  // Where IP journeys stop, per direction.
  const complete: Record<Direction, number> = { 'to-target': 0, 'from-target': 0 };
  const incomplete: Record<Direction, number> = { 'to-target': 0, 'from-target': 0 };
  const segmentCount = new Map<string, { direction: Direction; last: number | null; missing: number | null; packets: number }>();
  const orderOf = (d: Direction) => {
    const idx = [...Array(n).keys()].filter((i) => input.observed[i] || input.failedMidway?.[i]);
    return d === 'to-target' ? idx : idx.reverse();
  };
  for (const j of journeys.values()) {
    if ((j.kind !== 'request' && j.kind !== 'reply') || j.direction === 'other') continue;
    const order = orderOf(j.direction);
    const positions = order.map((h, pos) => (j.seen.has(h) ? pos : -1)).filter((x) => x >= 0);
    if (positions.length === 0) continue;
    const last = Math.max(...positions);
    if (last === order.length - 1) {
      complete[j.direction]++;
      continue;
    }
    incomplete[j.direction]++;
    const k = `${j.direction}:${order[last]}:${order[last + 1]}`;
    const s = segmentCount.get(k) ?? { direction: j.direction, last: order[last]!, missing: order[last + 1]!, packets: 0 };
    s.packets++;
    segmentCount.set(k, s);
  }
  const segments = [...segmentCount.values()]
    .sort((a, b) => b.packets - a.packets || (a.direction === 'to-target' ? -1 : 1))
    .map((s) => ({
      direction: s.direction,
      lastSeenHop: s.last === null ? null : hopRef(input.hops[s.last]!),
      firstMissingHop: s.missing === null ? null : hopRef(input.hops[s.missing]!),
      packets: s.packets,
    }));

  let loss: Loss | null = null;
  const firstObserved = orderOf('to-target')[0];
  const toTargetSeen = complete['to-target'] + incomplete['to-target'];
  const fromTargetSeen = complete['from-target'] + incomplete['from-target'];
  // No IP packet towards the target anywhere: the sender may be stuck resolving
  // its next hop. Its ARP requests then show how far the attempt got.
  if (toTargetSeen === 0) {
    const arpSegments = new Map<string, { last: number; missing: number; packets: number }>();
    const order = orderOf('to-target');
    for (const j of journeys.values()) {
      if (j.kind !== 'arp-request' || j.direction !== 'to-target') continue;
      const positions = order.map((h, pos) => (j.seen.has(h) ? pos : -1)).filter((x) => x >= 0);
      if (positions.length === 0) continue;
      const last = Math.max(...positions);
      if (last === order.length - 1) continue;
      const k = `${order[last]}:${order[last + 1]}`;
      const seg = arpSegments.get(k) ?? { last: order[last]!, missing: order[last + 1]!, packets: 0 };
      seg.packets++;
      arpSegments.set(k, seg);
    }
    const top = [...arpSegments.values()].sort((a, b) => b.packets - a.packets)[0];
    if (top) {
      const seg = { direction: 'to-target' as const, lastSeenHop: hopRef(input.hops[top.last]!), firstMissingHop: hopRef(input.hops[top.missing]!) };
      segments.push({ ...seg, packets: top.packets });
    }
  }
  if (segments.length > 0) {
    const top = segments.find((s) => s.direction === 'to-target') ?? segments[0]!;
    loss = { direction: top.direction, lastSeenHop: top.lastSeenHop, firstMissingHop: top.firstMissingHop };
  } else if (toTargetSeen === 0 && firstObserved !== undefined) {
    loss = { direction: 'to-target', lastSeenHop: null, firstMissingHop: hopRef(input.hops[firstObserved]!) };
  } else if (fromTargetSeen === 0 && toTargetSeen > 0) {
    const firstFrom = orderOf('from-target')[0];
    loss = { direction: 'from-target', lastSeenHop: null, firstMissingHop: firstFrom === undefined ? null : hopRef(input.hops[firstFrom]!) };
  }

  return {
    journeys: [...journeys.values()],
    hopCounts,
    loss,
    segments,
    instead: describeInstead(input, target),
    traces: traces([...journeys.values()], input),
    target,
    complete,
    incomplete,
  };
}

function describeInstead(input: CorrelateInput, target: TargetBehaviour): string[] {
  const out: string[] = [];
  const where = (p: HopPacket) => {
    const h = input.hops[p.hop];
    return h ? `${h.netns}/${h.ifname}` : `hop ${p.hop}`;
  };
  for (const p of target.rstFromTarget) {
    out.push(`TCP RST from ${p.src}:${p.srcPort} (MAC ${p.srcMac ?? '?'}) to ${p.dst}:${p.dstPort}, seen at ${where(p)}`);
  }
  for (const p of target.icmpErrors) {
    const q = p.quoted ? ` about ${p.quoted.src ?? '?'} > ${p.quoted.dst ?? '?'}${p.quoted.proto ? ` ${p.quoted.proto}` : ''}` : '';
    out.push(`ICMP${p.proto === 'icmp6' ? 'v6' : ''} type ${p.icmpType} code ${p.icmpCode} from ${p.src}${q}, seen at ${where(p)}`);
  }
  const unanswered = new Map<string, number>();
  for (const p of input.packets) {
    if (p.kind !== 'arp' || p.arpOp !== 1 || !p.arpSenderIp || !(input.sourceAddresses ?? []).includes(p.arpSenderIp)) continue;
    const answered = input.packets.some((r) => r.kind === 'arp' && r.arpOp === 2 && r.arpSenderIp === p.arpTargetIp && r.arpTargetIp === p.arpSenderIp);
    if (!answered) unanswered.set(`${p.arpTargetIp} tell ${p.arpSenderIp}`, (unanswered.get(`${p.arpTargetIp} tell ${p.arpSenderIp}`) ?? 0) + 1);
  }
  for (const [what, count] of unanswered) out.push(`ARP who-has ${what}: ${count} sightings, never answered`);
  for (const [asked, count] of target.arpAskedByTarget) {
    out.push(
      `ARP who-has ${asked} tell ${input.targetAddresses[0] ?? 'target'}: ${count} request${count === 1 ? '' : 's'} from the target` +
        (target.arpRepliesToTargetAtNic > 0 ? `, ${target.arpRepliesToTargetAtNic} replies reached its NIC but it kept asking` : ', no reply reached its NIC'),
    );
  }
  return out;
}

/**
 * A few journeys drawn hop by hop: one whose addresses were translated on the
 * way (NAT), the first of each kind and direction, and the first lost ones.
 */
function traces(journeys: Journey[], input: CorrelateInput): Trace[] {
  const candidates = journeys.filter((j) => j.direction !== 'other').slice(0, 5000);
  const drawn = new Map<Journey, Trace>();
  const draw = (j: Journey) => {
    let t = drawn.get(j);
    if (!t) {
      t = drawJourney(j, input);
      drawn.set(j, t);
    }
    return t;
  };
  const picked = new Set<Journey>();
  for (const dir of ['to-target', 'from-target'] as const) {
    const nat = candidates.find((j) => j.direction === dir && j.seen.size > 1 && draw(j).changes.some((c) => c.includes('NAT-ed')));
    if (nat) picked.add(nat);
  }
  const seenKinds = new Set<string>();
  for (const j of candidates) {
    const k = `${j.kind}:${j.direction}:${j.first.proto ?? j.first.kind}`;
    if (seenKinds.has(k)) continue;
    seenKinds.add(k);
    picked.add(j);
    if (picked.size >= 8) break;
  }
  const last = input.hops.length - 1;
  for (const j of candidates) {
    if (picked.size >= 10) break;
    if ((j.kind === 'request' && !j.seen.has(last)) || (j.kind === 'reply' && !j.seen.has(0))) picked.add(j);
  }
  return [...picked].map(draw);
}

function drawJourney(j: Journey, input: CorrelateInput): Trace {
  const order = [...j.seen.keys()].sort((a, b) => (j.direction === 'from-target' ? b - a : a - b));
  const t0 = j.seen.get(order[0]!)!.tsNs;
  const changes: string[] = [];
  for (let i = 1; i < order.length; i++) {
    const a = j.seen.get(order[i - 1]!)!;
    const b = j.seen.get(order[i]!)!;
    const at = `${input.hops[order[i - 1]!]?.ifname}→${input.hops[order[i]!]?.ifname}`;
    if (a.ttl !== undefined && b.ttl !== undefined && a.ttl !== b.ttl) changes.push(`${at}: TTL ${a.ttl}→${b.ttl}`);
    if (a.srcMac !== b.srcMac || a.dstMac !== b.dstMac) changes.push(`${at}: MAC ${a.srcMac}>${a.dstMac} became ${b.srcMac}>${b.dstMac}`);
    if (a.dst !== b.dst || a.dstPort !== b.dstPort) changes.push(`${at}: destination ${a.dst}:${a.dstPort ?? ''} NAT-ed to ${b.dst}:${b.dstPort ?? ''}`);
    if (a.src !== b.src || a.srcPort !== b.srcPort) changes.push(`${at}: source ${a.src}:${a.srcPort ?? ''} NAT-ed to ${b.src}:${b.srcPort ?? ''}`);
    if (a.vlan !== b.vlan) changes.push(`${at}: VLAN ${a.vlan ?? 'none'}→${b.vlan ?? 'none'}`);
    if (a.length !== b.length && a.kind === b.kind) changes.push(`${at}: length ${a.length}→${b.length}`);
  }
  return {
    summary: j.first.summary,
    direction: j.direction as Direction,
    seenAt: order.map((h) => {
      const p = j.seen.get(h)!;
      return { hop: h, ts: fmtTs(p.tsNs), latencyUs: Number((p.tsNs - t0) / 1000n) };
    }),
    changes,
  };
}
