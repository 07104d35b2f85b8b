import type { Hop } from '../model/path.js';
import type { Direction, HopCounts, HopRef, Loss, Journey } from '../model/report.js';
import type { HopPacket } from '../model/packet.js';

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
  /** See CorrelatorConfig.edgeNs. */
  edgeNs?: bigint;
  /** See CorrelatorConfig.startNs. */
  startNs?: bigint;
}

export type CorrelatorConfig = Omit<CorrelateInput, 'packets'> & {
  /**
   * Offline mode: packets arrive in time order and a journey is settled once
   * the capture clock is this far past its first sighting, so memory stays
   * bounded however long the capture. Live mode (undefined) settles at the end.
   */
  settleAfterNs?: bigint;
  /**
   * Captures stop at slightly different moments: a journey first seen this
   * close to the end that did not cross every hop is not counted as lost.
   */
  edgeNs?: bigint;
  /**
   * When the last capture started listening: a journey first seen before it
   * may have passed a hop whose capture was not running yet.
   */
  startNs?: bigint;
};

export type JourneyKind = 'request' | 'reply' | 'arp-request' | 'arp-reply' | 'error' | 'other';

/** What the correlator keeps of one sighting: the fields compared between hops, no payload. */
export interface Sighting {
  tsNs: bigint;
  ttl?: number;
  srcMac?: string;
  dstMac?: string;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  vlan?: number;
  length: number;
  kind: HopPacket['kind'];
}

/** One packet followed across the hops that saw it. */
export interface LiveJourney {
  key: string;
  direction: Direction | 'other';
  kind: JourneyKind;
  /** Per hop index: the packet as first seen there. */
  seen: Map<number, Sighting>;
  summary: string;
  proto: string;
  firstTs: bigint;
  /** ARP/NDP: the address asked for (request) or answered for (reply). */
  resolves?: string;
  /** ARP/NDP: who asks (request: its sender; reply: its target). */
  asker?: string;
}

export interface TargetBehaviour {
  /** IP packets to the target seen on the target's own NIC (the last hop). */
  requestsAtTargetNic: number;
  /** IP packets from the target seen anywhere. */
  ipFromTarget: number;
  /** Up to 16 distinct RSTs from the target (or the address probed). */
  rstFromTarget: HopPacket[];
  /** Up to 16 distinct ICMP errors. */
  icmpErrors: HopPacket[];
  /** ARP requests the target sent, by the address it asked for. */
  arpAskedByTarget: Map<string, number>;
  /** ARP replies addressed to the target, seen on the target's NIC. */
  arpRepliesToTargetAtNic: number;
  /**
   * ARP requests (IPv6: neighbour solicitations) for a target address that came
   * in at the first observed hop (or from a probe's source) and reached the last.
   */
  arpRequestsForTargetAtEnd: number;
  /** ARP replies (IPv6: neighbour advertisements) from a target address to such an asker, seen anywhere. */
  arpRepliesFromTarget: number;
  /** MACs that answered or announced ARP for each target address. */
  arpClaims: Map<string, Set<string>>;
  /** How many frames were addressed to each destination MAC (at most 256 MACs kept). */
  dstMacs: Map<string, number>;
  /**
   * Source MACs of replies from the target's address seen on the target's own
   * L2 segment (the hops after the last routing step): more than the target's
   * own MAC means another host answered.
   */
  replyMacs: Map<string, number>;
  /**
   * Per hop index: requests taken up short of the target's device by the target's own namespace, at
   * the lower device of the macvlan that holds the target's address, because they were addressed to
   * the lower device's own MAC (the lower device answered ARP for its child's address: ARP flux).
   */
  takenUpAtLower: Map<number, number>;
}

export interface Correlation {
  /** Journeys still held (live mode: all of them; offline: the last window's). */
  live: LiveJourney[];
  hopCounts: HopCounts[];
  loss: Loss | null;
  /** Every incomplete segment with how many packets stopped there, most first. */
  segments: Array<Loss & { packets: number }>;
  instead: string[];
  journeys: Journey[];
  target: TargetBehaviour;
  /** IP journeys per direction that crossed every observed hop after their first sighting. */
  complete: Record<Direction, number>;
  incomplete: Record<Direction, number>;
  /** Packets fed in. */
  packets: number;
}

function hopRef(h: Hop): HopRef {
  return { netns: h.netns, ifname: h.ifname, role: h.role };
}

const fmtTs = (ns: bigint) => {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  return `${d.toISOString().slice(11, 23)}${String(Number(ns % 1_000_000n))
    .padStart(6, '0')
    .slice(0, 3)}`;
};

const MAX_KEPT = 16;

/**
 * Groups the packets of every hop into journeys (the same packet at several
 * hops, by fingerprint), counts each hop per direction, and finds where the
 * traffic stops: for each direction, the last hop that saw a packet and the
 * first observed hop after it that did not.
 */
export class Correlator {
  private readonly targets: Set<string>;
  private readonly probes: Set<string>;
  private readonly sources: Set<string>;
  private readonly journeys = new Map<string, LiveJourney>();
  private readonly hopCounts: HopCounts[];
  private readonly target: TargetBehaviour;
  private readonly complete: Record<Direction, number> = { 'to-target': 0, 'from-target': 0 };
  private readonly incomplete: Record<Direction, number> = { 'to-target': 0, 'from-target': 0 };
  private readonly segmentCount = new Map<
    string,
    { direction: Direction; last: number; missing: number; packets: number }
  >();
  private readonly arpSegmentCount = new Map<string, { last: number; missing: number; packets: number }>();
  private readonly arpReplySegmentCount = new Map<string, { last: number; missing: number; packets: number }>();
  /**
   * Who asked for a target address from beyond the first observed hop (the
   * uplink side): only answers to them must cross every hop back. The host's
   * own bridge asking for its guest gets its answer half-way, rightly.
   */
  private readonly upstreamAskers = new Set<string>();
  private readonly unansweredAskers = new Map<string, number>();
  private readonly answeredAskers = new Set<string>();
  private readonly arpRequestsFromSources = new Map<string, number>();
  private readonly arpAnswered = new Set<string>();
  private readonly drawnCandidates = new Map<string, Journey>();
  private readonly lastHop: number;
  private readonly l2Start: number;
  private packets = 0;
  private clock = 0n;
  private nextSettle = 0n;

  constructor(private cfg: CorrelatorConfig) {
    this.targets = new Set(cfg.targetAddresses);
    this.probes = new Set(cfg.probeAddresses);
    this.sources = new Set(cfg.sourceAddresses ?? []);
    this.lastHop = cfg.hops.length - 1;
    this.hopCounts = cfg.hops.map((h) => ({
      netns: h.netns,
      ifname: h.ifname,
      role: h.role,
      observed: false,
      toTarget: 0,
      fromTarget: 0,
      arpRequests: 0,
      arpReplies: 0,
      other: 0,
    }));
    this.target = {
      requestsAtTargetNic: 0,
      ipFromTarget: 0,
      rstFromTarget: [],
      icmpErrors: [],
      arpAskedByTarget: new Map(),
      arpRepliesToTargetAtNic: 0,
      arpRequestsForTargetAtEnd: 0,
      arpRepliesFromTarget: 0,
      arpClaims: new Map(),
      dstMacs: new Map(),
      replyMacs: new Map(),
      takenUpAtLower: new Map(),
    };
    const lastRoute = cfg.hops.map((h) => h.via).lastIndexOf('route');
    this.l2Start = lastRoute < 0 ? 0 : lastRoute;
  }

  /** Live captures learn which hops were observed only when they stop. */
  setObserved(observed: boolean[], failedMidway?: boolean[], notObservedReason?: Array<string | undefined>): void {
    this.cfg = {
      ...this.cfg,
      observed,
      ...(failedMidway ? { failedMidway } : {}),
      ...(notObservedReason ? { notObservedReason } : {}),
    };
  }

  private classify(p: HopPacket): { direction: Direction | 'other'; kind: JourneyKind } {
    const { targets, probes, sources } = this;
    if (p.arpOp !== undefined) {
      const request = p.arpOp === 1;
      const kind = request ? 'arp-request' : 'arp-reply';
      if (p.arpSenderIp && targets.has(p.arpSenderIp)) return { direction: 'from-target', kind };
      if (p.arpTargetIp && (targets.has(p.arpTargetIp) || probes.has(p.arpTargetIp)))
        return { direction: 'to-target', kind };
      // The sender resolving its next hop towards the target, and the answer to it.
      if (request && p.arpSenderIp && sources.has(p.arpSenderIp)) return { direction: 'to-target', kind };
      if (!request && p.arpTargetIp && sources.has(p.arpTargetIp)) return { direction: 'from-target', kind };
      return { direction: 'other', kind: 'other' };
    }
    if (p.kind !== 'ipv4' && p.kind !== 'ipv6') return { direction: 'other', kind: 'other' };
    const isError =
      (p.proto === 'icmp' && p.icmpType !== undefined && [3, 4, 5, 11, 12].includes(p.icmpType)) ||
      (p.proto === 'icmp6' && p.icmpType !== undefined && p.icmpType < 128);
    if (isError) return { direction: 'from-target', kind: 'error' };
    // What a guest sends to a group or to everyone (IGMP/MLD reports when a bridge comes up, mDNS,
    // DHCP) is not an answer and is not meant to cross the host: it would look like a lost reply.
    if (p.dst && notUnicast(p.dst)) return { direction: 'other', kind: 'other' };
    if (p.dst && (targets.has(p.dst) || probes.has(p.dst))) return { direction: 'to-target', kind: 'request' };
    if (p.src && (targets.has(p.src) || probes.has(p.src))) return { direction: 'from-target', kind: 'reply' };
    return { direction: 'other', kind: 'other' };
  }

  /**
   * A packet known (by the caller's cheap test) to be neither to nor from
   * the target: counted at its hop, nothing else. Lets analyze feed only
   * the target's traffic through the full path on captures of millions.
   */
  addOther(hop: number, tsNs?: bigint, n = 1): void {
    this.packets += n;
    if (tsNs !== undefined && tsNs > this.clock) this.clock = tsNs;
    const counts = this.hopCounts[hop];
    if (counts) counts.other += n;
  }

  add(p: HopPacket): void {
    this.packets++;
    if (p.tsNs > this.clock) this.clock = p.tsNs;
    const { direction, kind } = this.classify(p);
    const t = this.target;
    const counts = this.hopCounts[p.hop];
    if (counts) {
      if (kind === 'arp-request') counts.arpRequests++;
      else if (kind === 'arp-reply') counts.arpReplies++;
      else if (direction === 'to-target') counts.toTarget++;
      else if (direction === 'from-target') counts.fromTarget++;
      else counts.other++;
    }
    if (p.dstMac && (t.dstMacs.has(p.dstMac) || t.dstMacs.size < 256))
      t.dstMacs.set(p.dstMac, (t.dstMacs.get(p.dstMac) ?? 0) + 1);
    if (kind === 'request' && p.hop === this.lastHop && this.cfg.hops[this.lastHop]?.isTarget) t.requestsAtTargetNic++;
    if ((kind === 'reply' || kind === 'error') && p.src && this.targets.has(p.src)) {
      t.ipFromTarget++;
      if (p.hop >= this.l2Start && p.srcMac && this.cfg.hops[p.hop]?.kind !== 'bridge' && t.replyMacs.size < 64) {
        t.replyMacs.set(p.srcMac.toLowerCase(), (t.replyMacs.get(p.srcMac.toLowerCase()) ?? 0) + 1);
      }
    }
    if (
      kind === 'reply' &&
      p.proto === 'tcp' &&
      p.tcpFlags?.includes('R') &&
      p.src &&
      (this.targets.has(p.src) || this.probes.has(p.src))
    ) {
      if (t.rstFromTarget.length < MAX_KEPT && !t.rstFromTarget.some((x) => x.fp === p.fp)) t.rstFromTarget.push(p);
    }
    if (kind === 'error' && t.icmpErrors.length < MAX_KEPT && !t.icmpErrors.some((x) => x.fp === p.fp))
      t.icmpErrors.push(p);
    if (p.arpOp !== undefined) {
      if (kind === 'arp-request' && direction === 'from-target' && p.arpTargetIp && p.arpTargetIp !== p.arpSenderIp) {
        if (p.hop === this.lastHop || !this.cfg.observed[this.lastHop]) {
          t.arpAskedByTarget.set(p.arpTargetIp, (t.arpAskedByTarget.get(p.arpTargetIp) ?? 0) + 1);
        }
      }
      if (kind === 'arp-reply' && direction === 'to-target' && p.hop === this.lastHop) t.arpRepliesToTargetAtNic++;
      // Who claims a target address: replies, and gratuitous announcements (sender = target ip).
      const claimed =
        p.arpSenderIp && this.targets.has(p.arpSenderIp) && (p.arpOp === 2 || p.arpTargetIp === p.arpSenderIp);
      if (claimed && p.arpSenderMac) {
        const set = t.arpClaims.get(p.arpSenderIp!) ?? new Set<string>();
        set.add(p.arpSenderMac.toLowerCase());
        t.arpClaims.set(p.arpSenderIp!, set);
      }
      if (p.arpOp === 1 && p.arpSenderIp && this.sources.has(p.arpSenderIp)) {
        const k = `${p.arpTargetIp} tell ${p.arpSenderIp}`;
        this.arpRequestsFromSources.set(k, (this.arpRequestsFromSources.get(k) ?? 0) + 1);
      }
      if (p.arpOp === 2 && p.arpTargetIp && this.sources.has(p.arpTargetIp))
        this.arpAnswered.add(`${p.arpSenderIp} tell ${p.arpTargetIp}`);
    }

    const key = `${kind}:${this.cfg.nat ? p.natFp : p.fp}`;
    let j = this.journeys.get(key);
    if (!j) {
      j = { key, direction, kind, seen: new Map(), summary: p.summary, proto: p.proto ?? p.kind, firstTs: p.tsNs };
      const resolves = kind === 'arp-request' ? p.arpTargetIp : kind === 'arp-reply' ? p.arpSenderIp : undefined;
      const asker = kind === 'arp-request' ? p.arpSenderIp : kind === 'arp-reply' ? p.arpTargetIp : undefined;
      if (resolves) j.resolves = resolves;
      if (asker) j.asker = asker;
      this.journeys.set(key, j);
    }
    if (!j.seen.has(p.hop)) j.seen.set(p.hop, sighting(p));
    if (this.cfg.settleAfterNs !== undefined && this.clock >= this.nextSettle) {
      this.settle(this.clock - this.cfg.settleAfterNs);
      this.nextSettle = this.clock + this.cfg.settleAfterNs / 4n;
    }
  }

  private orderOf(d: Direction): number[] {
    const idx = [...Array(this.cfg.hops.length).keys()].filter(
      (i) => this.cfg.observed[i] || this.cfg.failedMidway?.[i],
    );
    return d === 'to-target' ? idx : idx.reverse();
  }

  /** Folds journeys first seen before `before` into the counts and forgets them. */
  private settle(before: bigint | undefined): void {
    const orders = { 'to-target': this.orderOf('to-target'), 'from-target': this.orderOf('from-target') };
    const edge = before === undefined && this.cfg.edgeNs ? this.clock - this.cfg.edgeNs : undefined;
    for (const [key, j] of this.journeys) {
      if (before !== undefined && j.firstTs >= before) continue;
      const early = this.cfg.startNs !== undefined && j.firstTs < this.cfg.startNs;
      this.fold(j, orders, early || (edge !== undefined && j.firstTs > edge));
      this.considerDrawing(j);
      if (before !== undefined) this.journeys.delete(key);
    }
  }

  private fold(j: LiveJourney, orders: Record<Direction, number[]>, atEdge = false): void {
    if (j.direction === 'other') return;
    const order = orders[j.direction];
    const positions = order.map((h, pos) => (j.seen.has(h) ? pos : -1)).filter((x) => x >= 0);
    if (positions.length === 0) return;
    const last = Math.max(...positions);
    const reachedEnd = last === order.length - 1;
    if (j.kind === 'request' || j.kind === 'reply') {
      if (reachedEnd) {
        this.complete[j.direction]++;
        return;
      }
      if (j.kind === 'request' && this.takenUpAtLower(order[last]!, j)) {
        this.complete[j.direction]++;
        this.target.takenUpAtLower.set(order[last]!, (this.target.takenUpAtLower.get(order[last]!) ?? 0) + 1);
        return;
      }
      if (atEdge) return;
      this.incomplete[j.direction]++;
      const k = `${j.direction}:${order[last]}:${order[last + 1]}`;
      const s = this.segmentCount.get(k) ?? {
        direction: j.direction,
        last: order[last]!,
        missing: order[last + 1]!,
        packets: 0,
      };
      s.packets++;
      this.segmentCount.set(k, s);
    } else if (j.kind === 'arp-request' && j.direction === 'to-target') {
      const forTarget = j.resolves !== undefined && this.targets.has(j.resolves) && j.asker !== undefined;
      const upstream = forTarget && (j.seen.has(order[0]!) || this.sources.has(j.asker!));
      if (upstream) this.upstreamAskers.add(j.asker!);
      if (reachedEnd) {
        if (upstream) {
          this.target.arpRequestsForTargetAtEnd++;
          this.unansweredAskers.set(j.asker!, (this.unansweredAskers.get(j.asker!) ?? 0) + 1);
        }
        return;
      }
      const k = `${order[last]}:${order[last + 1]}`;
      const s = this.arpSegmentCount.get(k) ?? { last: order[last]!, missing: order[last + 1]!, packets: 0 };
      s.packets++;
      this.arpSegmentCount.set(k, s);
    } else if (j.kind === 'arp-reply' && j.direction === 'from-target' && j.resolves && this.targets.has(j.resolves)) {
      if (!j.asker || !(this.upstreamAskers.has(j.asker) || this.sources.has(j.asker))) return;
      this.answeredAskers.add(j.asker);
      this.target.arpRepliesFromTarget++;
      if (reachedEnd || atEdge) return;
      const k = `${order[last]}:${order[last + 1]}`;
      const s = this.arpReplySegmentCount.get(k) ?? { last: order[last]!, missing: order[last + 1]!, packets: 0 };
      s.packets++;
      this.arpReplySegmentCount.set(k, s);
    }
  }

  /**
   * A request last seen on the lower device of the macvlan (macvtap, ipvlan) that holds the target's
   * address, in the target's own namespace, addressed to the lower device's own MAC: the macvlan's
   * rx handler leaves it to the lower device, whose namespace takes it up there (Linux accepts a
   * packet for any of its addresses on any of its interfaces). It arrived; it just never passes the
   * child. Happens when the lower device answers ARP for its child's address (arp_ignore=0).
   */
  private takenUpAtLower(h: number, j: LiveJourney): boolean {
    const hop = this.cfg.hops[h];
    const child = this.cfg.hops[h + 1];
    const target = this.cfg.hops[this.lastHop];
    const dstMac = j.seen.get(h)?.dstMac?.toLowerCase();
    return (
      hop?.address !== undefined &&
      dstMac === hop.address.toLowerCase() &&
      child?.via === 'macvlan' &&
      target?.isTarget === true &&
      hop.netns === target.netns &&
      child.netns === target.netns
    );
  }

  /**
   * Keeps a few journeys to draw: one translated on the way (NAT) per
   * direction, the first of each kind and direction, and the first lost ones.
   */
  private considerDrawing(j: LiveJourney): void {
    if (j.direction === 'other' || this.drawnCandidates.size >= 12) return;
    const trace = drawJourney(j, this.cfg.hops);
    const nat = trace.changes.some((c) => c.includes('NAT-ed'));
    const keys = [`${j.kind}:${j.direction}:${j.proto}`];
    if (nat) keys.unshift(`nat:${j.direction}`);
    if ((j.kind === 'request' && !j.seen.has(this.lastHop)) || (j.kind === 'reply' && !j.seen.has(0)))
      keys.push(`lost:${j.direction}:${this.drawnCandidates.size}`);
    for (const k of keys) if (!this.drawnCandidates.has(k)) this.drawnCandidates.set(k, trace);
  }

  finish(): Correlation {
    const held = [...this.journeys.values()];
    this.settle(undefined);
    const hops = this.cfg.hops;
    const segments = [...this.segmentCount.values()]
      .sort((a, b) => b.packets - a.packets || (a.direction === 'to-target' ? -1 : 1))
      .map((s) => ({
        direction: s.direction,
        lastSeenHop: hopRef(hops[s.last]!),
        firstMissingHop: hopRef(hops[s.missing]!),
        packets: s.packets,
      }));
    const toTargetSeen = this.complete['to-target'] + this.incomplete['to-target'];
    const fromTargetSeen = this.complete['from-target'] + this.incomplete['from-target'];
    // No IP packet towards the target anywhere: the sender may be stuck resolving
    // its next hop or the target. ARP (IPv6: NDP) then shows how far the attempt
    // got, as IP would: requests lost on the way, replies lost on the way back.
    const firstFrom = this.orderOf('from-target')[0];
    let unansweredAtEnd = false;
    if (toTargetSeen === 0) {
      const top = [...this.arpSegmentCount.values()].sort((a, b) => b.packets - a.packets)[0];
      if (top)
        segments.push({
          direction: 'to-target',
          lastSeenHop: hopRef(hops[top.last]!),
          firstMissingHop: hopRef(hops[top.missing]!),
          packets: top.packets,
        });
      const back = [...this.arpReplySegmentCount.values()].sort((a, b) => b.packets - a.packets)[0];
      if (back)
        segments.push({
          direction: 'from-target',
          lastSeenHop: hopRef(hops[back.last]!),
          firstMissingHop: hopRef(hops[back.missing]!),
          packets: back.packets,
        });
      // Requests for the target reached the last observed hop and nothing answered them anywhere.
      unansweredAtEnd = !back && [...this.unansweredAskers.keys()].some((a) => !this.answeredAskers.has(a));
    }
    let loss: Loss | null = null;
    const firstObserved = this.orderOf('to-target')[0];
    if (segments.length > 0) {
      const top = segments.find((s) => s.direction === 'to-target') ?? segments[0]!;
      loss = { direction: top.direction, lastSeenHop: top.lastSeenHop, firstMissingHop: top.firstMissingHop };
    } else if (unansweredAtEnd && firstFrom !== undefined) {
      loss = { direction: 'from-target', lastSeenHop: null, firstMissingHop: hopRef(hops[firstFrom]!) };
    } else if (toTargetSeen === 0 && firstObserved !== undefined) {
      loss = { direction: 'to-target', lastSeenHop: null, firstMissingHop: hopRef(hops[firstObserved]!) };
    } else if (fromTargetSeen === 0 && toTargetSeen > 0) {
      loss = {
        direction: 'from-target',
        lastSeenHop: null,
        firstMissingHop: firstFrom === undefined ? null : hopRef(hops[firstFrom]!),
      };
    }
    const hopCounts = this.hopCounts.map((h, i) => ({
      ...h,
      observed: this.cfg.observed[i] ?? false,
      ...(this.cfg.notObservedReason?.[i] ? { notObservedReason: this.cfg.notObservedReason[i] } : {}),
    }));
    return {
      live: held,
      hopCounts,
      loss,
      segments,
      instead: this.describeInstead(),
      // The telling ones first: translated on the way, then lost, then one of each kind.
      journeys: [
        ...new Set([...this.drawnCandidates.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([, t]) => t)),
      ].slice(0, 10),
      target: this.target,
      complete: this.complete,
      incomplete: this.incomplete,
      packets: this.packets,
    };
  }

  private describeInstead(): string[] {
    const out: string[] = [];
    const t = this.target;
    const where = (p: HopPacket) => {
      const h = this.cfg.hops[p.hop];
      return h ? `${h.netns}/${h.ifname}` : `hop ${p.hop}`;
    };
    for (const p of t.rstFromTarget)
      out.push(
        `TCP RST from ${p.src}:${p.srcPort} (MAC ${p.srcMac ?? '?'}) to ${p.dst}:${p.dstPort}, seen at ${where(p)}`,
      );
    for (const p of t.icmpErrors) {
      const q = p.quoted
        ? ` about ${p.quoted.src ?? '?'} > ${p.quoted.dst ?? '?'}${p.quoted.proto ? ` ${p.quoted.proto}` : ''}`
        : '';
      out.push(
        `ICMP${p.proto === 'icmp6' ? 'v6' : ''} type ${p.icmpType} code ${p.icmpCode} from ${p.src}${q}, seen at ${where(p)}`,
      );
    }
    for (const [what, count] of this.arpRequestsFromSources) {
      if (!this.arpAnswered.has(what)) out.push(`ARP who-has ${what}: ${count} sightings, never answered`);
    }
    const name = (i: number) =>
      this.cfg.hops[i] ? `${this.cfg.hops[i].netns}/${this.cfg.hops[i].ifname}` : `hop ${i}`;
    for (const s of this.arpReplySegmentCount.values()) {
      out.push(
        `${s.packets} ARP/NDP replies from ${this.cfg.targetAddresses[0] ?? 'the target'} seen at ${name(s.last)} never reached ${name(s.missing)}`,
      );
    }
    if (this.target.arpRequestsForTargetAtEnd > 0 && this.target.arpRepliesFromTarget === 0) {
      const end = this.orderOf('to-target').at(-1);
      out.push(
        `ARP/NDP requests for ${this.cfg.targetAddresses[0] ?? 'the target'} (${this.target.arpRequestsForTargetAtEnd} distinct) reached ${end === undefined ? 'the last hop' : name(end)}; the target never answered`,
      );
    }
    for (const [asked, count] of t.arpAskedByTarget) {
      out.push(
        `ARP who-has ${asked} tell ${this.cfg.targetAddresses[0] ?? 'target'}: ${count} request${count === 1 ? '' : 's'} from the target` +
          (t.arpRepliesToTargetAtNic > 0
            ? `, ${t.arpRepliesToTargetAtNic} replies reached its NIC but it kept asking`
            : ', no reply reached its NIC'),
      );
    }
    return out;
  }
}

function rank(key: string): number {
  return key.startsWith('nat:') ? 0 : key.startsWith('lost:') ? 1 : 2;
}

function sighting(p: HopPacket): Sighting {
  return {
    tsNs: p.tsNs,
    length: p.length,
    kind: p.kind,
    ...(p.ttl !== undefined ? { ttl: p.ttl } : {}),
    ...(p.srcMac ? { srcMac: p.srcMac } : {}),
    ...(p.dstMac ? { dstMac: p.dstMac } : {}),
    ...(p.src ? { src: p.src } : {}),
    ...(p.dst ? { dst: p.dst } : {}),
    ...(p.srcPort !== undefined ? { srcPort: p.srcPort } : {}),
    ...(p.dstPort !== undefined ? { dstPort: p.dstPort } : {}),
    ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
  };
}

function drawJourney(j: LiveJourney, hops: Hop[]): Journey {
  const order = [...j.seen.keys()].sort((a, b) => (j.direction === 'from-target' ? b - a : a - b));
  const t0 = j.seen.get(order[0]!)!.tsNs;
  const changes: string[] = [];
  for (let i = 1; i < order.length; i++) {
    const a = j.seen.get(order[i - 1]!)!;
    const b = j.seen.get(order[i]!)!;
    const at = `${hops[order[i - 1]!]?.ifname}→${hops[order[i]!]?.ifname}`;
    if (a.ttl !== undefined && b.ttl !== undefined && a.ttl !== b.ttl) changes.push(`${at}: TTL ${a.ttl}→${b.ttl}`);
    if (a.srcMac !== b.srcMac || a.dstMac !== b.dstMac)
      changes.push(`${at}: MAC ${a.srcMac}>${a.dstMac} became ${b.srcMac}>${b.dstMac}`);
    if (a.dst !== b.dst || a.dstPort !== b.dstPort)
      changes.push(`${at}: destination ${a.dst}:${a.dstPort ?? ''} NAT-ed to ${b.dst}:${b.dstPort ?? ''}`);
    if (a.src !== b.src || a.srcPort !== b.srcPort)
      changes.push(`${at}: source ${a.src}:${a.srcPort ?? ''} NAT-ed to ${b.src}:${b.srcPort ?? ''}`);
    if (a.vlan !== b.vlan) changes.push(`${at}: VLAN ${a.vlan ?? 'none'}→${b.vlan ?? 'none'}`);
    if (a.length !== b.length && a.kind === b.kind) changes.push(`${at}: length ${a.length}→${b.length}`);
  }
  return {
    summary: j.summary,
    direction: j.direction as Direction,
    seenAt: order.map((h) => {
      const p = j.seen.get(h)!;
      return { hop: h, ts: fmtTs(p.tsNs), latencyUs: Number((p.tsNs - t0) / 1000n) };
    }),
    changes,
  };
}

/** All packets at once (live diagnose, tests): sorted by time, then correlated. */
export function correlate(input: CorrelateInput): Correlation {
  const { packets, ...cfg } = input;
  const c = new Correlator(cfg);
  const sorted = [...packets].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.hop - b.hop));
  for (const p of sorted) c.add(p);
  return c.finish();
}

/** Multicast (224.0.0.0/4, ff00::/8) or the limited broadcast: never one of the probes' flows. */
function notUnicast(addr: string): boolean {
  if (addr.includes(':')) return /^ff/i.test(addr);
  const first = Number(addr.slice(0, addr.indexOf('.')));
  return (first >= 224 && first <= 239) || addr === '255.255.255.255';
}
