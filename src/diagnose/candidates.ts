import type { SessionResult } from '../capture/session.js';
import type { Topology } from '../model/topology.js';
import type { Candidate, Hop, Path } from '../model/path.js';

/**
 * A silent guest whose backend is not known (the path ends at the bridge,
 * several candidate backends): every candidate, and the guest NIC behind it
 * when hopdump sees it, is captured too. Afterwards the path follows the one
 * the window's packets point at, and the session is re-indexed onto it.
 */

export interface CandidateGroup {
  candidate: Candidate;
  hops: Hop[];
}

/** Hops to capture on for each candidate: its backend, then the guest NIC behind it. */
export function candidateCaptureHops(topology: Topology, path: Path): CandidateGroup[] {
  const groups: CandidateGroup[] = [];
  for (const c of path.candidates ?? []) {
    const ns = topology.namespaces.find((n) => n.id === c.netns);
    const port = ns?.interfaces.find((i) => i.ifname === c.ifname);
    if (!ns || !port) continue;
    const hop = (netns: string, iface: typeof port, role: Hop['role'], via: Hop['via']): Hop => ({
      netns,
      ifname: iface.ifname,
      kind: iface.kind,
      role,
      seesTransit: true,
      isTarget: false,
      via,
      ...(iface.address ? { address: iface.address } : {}),
      mtu: iface.mtu,
      addresses: [],
      note: 'candidate backend',
    });
    const hops = [hop(ns.id, port, 'backend', 'bridge')];
    const peerNs = port.peer?.netns ? topology.namespaces.find((n) => n.id === port.peer!.netns) : undefined;
    const peer =
      peerNs?.collected && peerNs !== ns ? peerNs.interfaces.find((i) => i.ifindex === port.peer!.ifindex) : undefined;
    if (peerNs && peer) hops.push(hop(peerNs.id, peer, 'guest-nic', 'veth'));
    groups.push({ candidate: c, hops });
  }
  return groups;
}

export interface LeadChoice {
  backend: { netns: string; ifname: string; why: string };
  notices: string[];
}

/**
 * The candidate the window points at: the one whose captures saw packets
 * from the target address (the guest answered or spoke), else the one the
 * bridge forwarded unicast frames for it to (its FDB knows the MAC there),
 * else the first (nothing told them apart: said so).
 */
export function chooseLead(
  session: SessionResult,
  first: number,
  groups: CandidateGroup[],
  address: string,
): LeadChoice {
  let index = first;
  const tallies = groups.map((g) => {
    const idx = g.hops.map(() => index++);
    const pkts = session.packets.filter((p) => idx.includes(p.hop));
    const from = pkts.filter((p) => p.src === address || p.arpSenderIp === address).length;
    const to = pkts.filter((p) => p.dst === address || p.arpTargetIp === address).length;
    const unicast = pkts.filter((p) => p.dst === address && p.dstMac && p.dstMac !== 'ff:ff:ff:ff:ff:ff').length;
    const watched = idx.some((i) => session.observed[i]);
    return { g, from, to, unicast, watched };
  });
  const notices = tallies.map(
    (t) =>
      `candidate ${t.g.candidate.netns}/${t.g.candidate.ifname}: ${t.watched ? `${t.to} packets for ${address} and ${t.from} from it during the window` : 'not captured'}`,
  );
  const byFrom = [...tallies].sort((a, b) => b.from - a.from)[0];
  const byUnicast = [...tallies].sort((a, b) => b.unicast - a.unicast)[0];
  let lead = tallies[0]!;
  let why: string;
  if (byFrom && byFrom.from > 0) {
    lead = byFrom;
    why = `${byFrom.from} packets from ${address} were captured on it`;
  } else if (byUnicast && byUnicast.unicast > 0) {
    lead = byUnicast;
    why = `the bridge forwarded ${byUnicast.unicast} unicast packets for ${address} to it`;
  } else {
    why = `nothing in the window told the ${tallies.length} candidates apart (all silent): the first is followed, the others were captured too`;
  }
  return { backend: { netns: lead.g.candidate.netns, ifname: lead.g.candidate.ifname, why }, notices };
}

/** The session's per-hop results moved from the hops it captured onto the final path's hops. */
export function remapSession(session: SessionResult, captured: Hop[], hops: Hop[]): SessionResult {
  const from = hops.map((h) => captured.findIndex((c) => c.netns === h.netns && c.ifname === h.ifname));
  const usable = hops.map((h, j) => h.seesTransit && from[j]! >= 0 && session.observed[from[j]!] === true);
  const to = new Map<number, number>();
  from.forEach((i, j) => {
    if (usable[j]) to.set(i, j);
  });
  return {
    ...session,
    packets: session.packets.filter((p) => to.has(p.hop)).map((p) => ({ ...p, hop: to.get(p.hop)! })),
    observed: usable,
    failedMidway: hops.map((_, j) => (from[j]! >= 0 ? session.failedMidway[from[j]!] === true : false)),
    notObservedReason: hops.map((h, j) =>
      usable[j]
        ? undefined
        : !h.seesTransit
          ? h.kind === 'openvswitch'
            ? 'inside Open vSwitch: not capturable'
            : 'bridged frames are not seen on the bridge device'
          : from[j]! < 0
            ? 'not captured (the backend was chosen after the window)'
            : (session.notObservedReason[from[j]!] ?? 'not captured'),
    ),
    stats: hops.map((_, j) => (from[j]! >= 0 ? session.stats[from[j]!] : undefined)),
  };
}
