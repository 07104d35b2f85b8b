import { dnatMaps } from './dnat.js';
import { prefixContains } from '../model/ip.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';
import { danglingPatch, iptablesDnatRules, lowerChildren, lowerOf, rootNamespace } from '../model/topology.js';
import { resolveTarget, type ResolvedTarget } from './resolve.js';
import { pickCandidate } from './silent.js';
import type { Hop, HopRole, OvsHop, OvsHopPort, Path } from '../model/path.js';
import { findUplink } from './uplink.js';

export interface PathOptions {
  /** The uplink interface when hopdump cannot tell it. */
  uplink?: string;
  /** A silent guest's candidate backend to follow (diagnose's choice after capture or ARP; see path/silent.ts). */
  backend?: { netns: string; ifname: string; why: string };
}

interface Node {
  ns: Namespace;
  iface: Interface;
  via: Hop['via'];
}

/** Graph node key; an Open vSwitch bridge is a node of its own, apart from its internal port's device. */
const key = (ns: Namespace, ifname: string, kind?: string) =>
  `${ns.id}\u0000${kind === 'openvswitch' ? 'ovs:' : ''}${ifname}`;

/** An OVS bridge as a path node: it has no Linux device of its own in the userspace datapath. */
function ovsBridgeNode(ns: Namespace, name: string): Interface {
  return {
    ifindex: -1,
    ifname: name,
    kind: 'openvswitch',
    mtu: 0,
    adminUp: true,
    operstate: 'UNKNOWN',
    carrier: true,
    flags: [],
    promisc: false,
    addresses: [],
  };
}

/**
 * The ordered hops from the uplink to the target's own NIC. The model is a
 * graph of veth pairs, bridge port/master links and, where an interface does
 * IP (it is not a bridge port), the route the namespace would use towards
 * the target address; the path is the shortest walk from uplink to target.
 * When there is none (a backend not on its bridge), the path is drawn as it
 * should be, with a gap where the link is missing.
 */
export function findPath(topology: Topology, query: string, options: PathOptions = {}): Path {
  const root = rootNamespace(topology);
  const uplink = findUplink(root, options.uplink);
  const resolved = resolveTarget(topology, query, { uplink });
  const target =
    options.backend && resolved.candidates
      ? { ...resolved, ...pickCandidate(topology, resolved, options.backend) }
      : resolved;
  const byId = new Map(topology.namespaces.map((n) => [n.id, n]));
  const notes = [...target.notes];

  const found = bfs(byId, { ns: root, iface: uplink, via: 'start' }, target.ns, target.iface, target.address);
  let nodes: Node[];
  let complete = true;
  if (found) {
    nodes = found;
  } else {
    complete = false;
    nodes = gapPath(byId, root, uplink, target.ns, target.iface, target.address, notes);
  }
  const hops = nodes.map((n, i) => toHop(n, i, nodes));
  const published = target.published ? publishedStep(root, uplink, target.published, target.address, notes) : undefined;
  return {
    target: {
      query,
      type: target.type,
      netns: target.ns.id,
      ifname: target.iface.ifname,
      ...(target.address ? { address: target.address } : {}),
      ...(target.container ? { container: target.container } : {}),
      ...(published ? { published } : {}),
    },
    hops,
    ...(target.candidates ? { candidates: target.candidates } : {}),
    complete,
    notes,
  };
}

function neighbours(byId: Map<string, Namespace>, node: Node, targetAddress: string | undefined): Node[] {
  const { ns, iface } = node;
  const out: Node[] = [];
  if (iface.peer?.netns && iface.peer.ifname) {
    const peerNs = byId.get(iface.peer.netns);
    const peer = peerNs?.interfaces.find((i) => i.ifindex === iface.peer!.ifindex);
    if (peerNs && peer) out.push({ ns: peerNs, iface: peer, via: 'veth' });
  }
  if (iface.master) {
    const master = ns.interfaces.find((i) => i.ifname === iface.master);
    if (master) out.push({ ns, iface: master, via: 'bridge' });
  }
  if (iface.kind === 'bridge') {
    for (const port of ns.interfaces.filter((i) => i.master === iface.ifname))
      out.push({ ns, iface: port, via: 'bridge' });
  }
  // Open vSwitch: a port leads to its bridge, a bridge to its ports and, through
  // patch port pairs, to the bridge on the other side.
  if (iface.ovsBridge) out.push({ ns, iface: ovsBridgeNode(ns, iface.ovsBridge), via: 'bridge' });
  if (iface.kind === 'openvswitch') {
    for (const port of ns.interfaces.filter((i) => i.ovsBridge === iface.ifname))
      out.push({ ns, iface: port, via: 'bridge' });
    const bridge = ns.ovs?.bridges.find((b) => b.name === iface.ifname);
    for (const p of bridge?.ports ?? []) {
      for (const i of p.interfaces) {
        const peer = i.type === 'patch' ? i.options['peer'] : undefined;
        const other = peer
          ? ns.ovs!.bridges.find((b) => b.ports.some((q) => q.interfaces.some((x) => x.name === peer)))
          : undefined;
        if (other) out.push({ ns, iface: ovsBridgeNode(ns, other.name), via: 'patch' });
      }
    }
  }
  out.push(...macvlanLinks(byId, node));
  // A bridge port does no IP of its own: routing happens on its bridge.
  if (!iface.master && !(iface.ovsBridge && iface.kind !== 'tap') && iface.kind !== 'openvswitch' && targetAddress) {
    const dev = routeDev(ns, targetAddress);
    if (dev && dev !== iface.ifname) {
      const egress = ns.interfaces.find((i) => i.ifname === dev);
      if (egress) out.push({ ns, iface: egress, via: 'route' });
    }
  }
  return out;
}

/**
 * A macvlan, macvtap or ipvlan and its lower device are joined without any
 * bridge: frames for the child's MAC arriving on the lower device go straight
 * to the child (its rx handler), and the child transmits through the lower
 * device. Either leads to the other, wherever the child's namespace is.
 */
function macvlanLinks(byId: Map<string, Namespace>, node: Node): Node[] {
  const topology = { namespaces: [...byId.values()] };
  const out: Node[] = [];
  const lower = node.iface.lower ? lowerOf(topology, node.iface) : undefined;
  if (lower) out.push({ ns: lower.ns, iface: lower.iface, via: 'macvlan' });
  for (const child of lowerChildren(topology, node.ns.id, node.iface.ifindex))
    out.push({ ns: child.ns, iface: child.iface, via: 'macvlan' });
  return out;
}

/** The device the namespace would send to `address` from: local address first, then longest prefix. */
export function routeDev(ns: Namespace, address: string): string | undefined {
  const local = ns.interfaces.find((i) => i.addresses.some((a) => a.local === address));
  if (local) return local.ifname;
  let best: { dev: string; length: number; metric: number } | undefined;
  for (const r of ns.routes) {
    if (r.table !== 'main' || !r.dev || (r.type !== 'unicast' && r.type !== 'local')) continue;
    const m = prefixContains(r.dst, address);
    if (!m.contains) continue;
    if (r.dst === 'default' && (r.family === 'inet6') !== address.includes(':')) continue;
    const metric = r.metric ?? 0;
    if (!best || m.length > best.length || (m.length === best.length && metric < best.metric)) {
      best = { dev: r.dev, length: m.length, metric };
    }
  }
  return best?.dev;
}

function bfs(
  byId: Map<string, Namespace>,
  start: Node,
  targetNs: Namespace,
  targetIface: Interface,
  targetAddress: string | undefined,
): Node[] | undefined {
  const parent = new Map<string, { node: Node; prev: string | null }>();
  const startKey = key(start.ns, start.iface.ifname, start.iface.kind);
  parent.set(startKey, { node: start, prev: null });
  const queue: string[] = [startKey];
  const goal = key(targetNs, targetIface.ifname, targetIface.kind);
  while (queue.length > 0) {
    const k = queue.shift()!;
    if (k === goal) {
      const chain: Node[] = [];
      for (let cur: string | null = k; cur !== null; cur = parent.get(cur)!.prev) chain.unshift(parent.get(cur)!.node);
      return chain;
    }
    const node = parent.get(k)!.node;
    // A bridge reached through a port forwards to its ports; it does not route back out of
    // the same segment unless the traffic is for it.
    for (const next of neighbours(byId, node, targetAddress)) {
      const nk = key(next.ns, next.iface.ifname, next.iface.kind);
      if (parent.has(nk)) continue;
      parent.set(nk, { node: next, prev: k });
      queue.push(nk);
    }
  }
  return undefined;
}

/**
 * The path as it should be when the target is cut off. From the target, its
 * own piece of the datapath is walked outwards (veth peers, bridge ports,
 * OVS ports and patch pairs) to the loose end: a device on no bridge, or an
 * OVS bridge whose patch port has no peer. The uplink side is walked to where
 * that end should attach (the bridge the uplink is on, the Neutron
 * integration bridge for a qvo device, the route to the target). The first
 * hop of the target's piece is the gap.
 */
function gapPath(
  byId: Map<string, Namespace>,
  root: Namespace,
  uplink: Interface,
  targetNs: Namespace,
  targetIface: Interface,
  targetAddress: string | undefined,
  notes: string[],
): Node[] {
  const targetNode: Node = { ns: targetNs, iface: targetIface, via: 'veth' };
  // The target's piece: links only, no routing (routing is what cannot reach it).
  const parent = new Map<string, { node: Node; prev: string | null }>();
  const tKey = key(targetNs, targetIface.ifname, targetIface.kind);
  parent.set(tKey, { node: targetNode, prev: null });
  const order: string[] = [tKey];
  for (let qi = 0; qi < order.length; qi++) {
    const node = parent.get(order[qi]!)!.node;
    for (const next of neighbours(byId, node, undefined)) {
      const nk = key(next.ns, next.iface.ifname, next.iface.kind);
      if (parent.has(nk)) continue;
      parent.set(nk, { node: next, prev: order[qi]! });
      order.push(nk);
    }
  }
  const reachable = reachableFrom(byId, { ns: root, iface: uplink, via: 'start' }, targetAddress);
  // The loose end nearest to the target (BFS order), in the uplink's namespace.
  const looseKey = order.find((k) => {
    const { ns, iface } = parent.get(k)!.node;
    if (ns !== root || reachable.has(k)) return false;
    if (iface.kind === 'openvswitch') return danglingPatch(ns, iface.ifname) !== undefined;
    return !iface.master && !iface.ovsBridge && (iface.kind === 'veth' || iface.kind === 'tap') && k !== tKey;
  });
  if (!looseKey) {
    const cut = chainCut(byId, root, uplink, targetAddress, order, parent, reachable, notes);
    if (cut) return cut;
  }
  const chain: Node[] = [];
  if (looseKey) {
    for (let cur: string | null = looseKey; cur !== null; cur = parent.get(cur)!.prev)
      chain.push({ ...parent.get(cur)!.node });
  } else {
    // No loose end found: the target's chain of veth peers back into the root namespace.
    chain.push(targetNode);
    let cur = targetNode;
    const seen = new Set([tKey]);
    while (cur.ns !== root) {
      const peer = cur.iface.peer;
      const peerNs = peer?.netns ? byId.get(peer.netns) : undefined;
      const next = peerNs?.interfaces.find((i) => i.ifindex === peer!.ifindex);
      if (!peerNs || !next || seen.has(key(peerNs, next.ifname))) break;
      seen.add(key(peerNs, next.ifname));
      cur = { ns: peerNs, iface: next, via: 'veth' };
      chain.unshift(cur);
    }
  }
  // Each hop of the target's piece says how it is reached from the one before it.
  for (let i = 1; i < chain.length; i++) chain[i]!.via = linkVia(chain[i - 1]!, chain[i]!);
  const first = chain[0]!;
  const attach = expectedAttachment(root, uplink, first, targetAddress);
  let side: Node[] = [{ ns: root, iface: uplink, via: 'start' }];
  if (attach) {
    const walk = bfs(byId, side[0]!, root, attach, targetAddress);
    if (walk) side = walk;
    else
      side.push({
        ns: root,
        iface: attach,
        via: uplink.master === attach.ifname || uplink.ovsBridge === attach.ifname ? 'bridge' : 'route',
      });
  }
  first.via = 'gap';
  const end = side[side.length - 1]!.iface;
  const patch = first.iface.kind === 'openvswitch' ? danglingPatch(first.ns, first.iface.ifname) : undefined;
  if (patch) {
    notes.push(
      `patch port ${patch.name} on ${first.iface.ifname} has peer ${patch.options['peer'] ?? '(none)'}, which is not a patch port of any bridge${patch.error ? ` (${patch.error})` : ''}`,
    );
  } else if (first.ns === root) {
    const where = first.iface.master
      ? `enslaved to ${first.iface.master}`
      : first.iface.ovsBridge
        ? `a port of ${first.iface.ovsBridge}`
        : 'not a port of any bridge';
    notes.push(
      `${first.iface.ifname} is ${where}${end.kind === 'bridge' || end.kind === 'openvswitch' ? `; the path needs it on ${end.ifname}` : ''}`,
    );
  } else {
    notes.push(`no link found from ${end.ifname} in ${root.id} to ${first.ns.id}/${first.iface.ifname}`);
  }
  return [...side, ...chain];
}

/**
 * A chain of bridges cut between two of them: the target's piece holds a
 * Linux bridge (Proxmox's fwbr<vmid>i<n>, Neutron's qbr) and the uplink's side
 * ends in the one veth of the namespace that is on no bridge while its peer is
 * a bridge port (fwln<vmid>i<n>, qvb): that veth belongs on that bridge. The
 * gap is drawn between them.
 */
function chainCut(
  byId: Map<string, Namespace>,
  root: Namespace,
  uplink: Interface,
  targetAddress: string | undefined,
  order: string[],
  parent: Map<string, { node: Node; prev: string | null }>,
  reachable: Set<string>,
  notes: string[],
): Node[] | undefined {
  const bridgeKey = order.find((k) => {
    const { ns, iface } = parent.get(k)!.node;
    return ns === root && iface.kind === 'bridge' && !reachable.has(k);
  });
  if (!bridgeKey) return undefined;
  const loose = root.interfaces.filter((i) => {
    if (
      i.kind !== 'veth' ||
      i.master ||
      i.ovsBridge ||
      i.peer?.netns !== root.id ||
      !reachable.has(key(root, i.ifname))
    )
      return false;
    const peer = root.interfaces.find((x) => x.ifindex === i.peer!.ifindex);
    return peer?.master !== undefined;
  });
  if (loose.length !== 1) return undefined;
  const side = bfs(byId, { ns: root, iface: uplink, via: 'start' }, root, loose[0]!, targetAddress);
  if (!side) return undefined;
  const chain: Node[] = [];
  for (let cur: string | null = bridgeKey; cur !== null; cur = parent.get(cur)!.prev)
    chain.push({ ...parent.get(cur)!.node });
  for (let i = 1; i < chain.length; i++) chain[i]!.via = linkVia(chain[i - 1]!, chain[i]!);
  chain[0]!.via = 'gap';
  notes.push(`${loose[0]!.ifname} is not a port of any bridge; the path needs it on ${chain[0]!.iface.ifname}`);
  return [...side, ...chain];
}

/** Every node the uplink reaches. */
function reachableFrom(byId: Map<string, Namespace>, start: Node, targetAddress: string | undefined): Set<string> {
  const seen = new Set([key(start.ns, start.iface.ifname, start.iface.kind)]);
  const queue = [start];
  while (queue.length) {
    for (const next of neighbours(byId, queue.shift()!, targetAddress)) {
      const k = key(next.ns, next.iface.ifname, next.iface.kind);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next);
      }
    }
  }
  return seen;
}

function linkVia(a: Node, b: Node): Hop['via'] {
  if (a.iface.kind === 'openvswitch' && b.iface.kind === 'openvswitch') return 'patch';
  if (a.iface.peer?.ifindex === b.iface.ifindex && a.iface.peer?.netns === b.ns.id) return 'veth';
  if (b.iface.peer?.ifindex === a.iface.ifindex && b.iface.peer?.netns === a.ns.id) return 'veth';
  return 'bridge';
}

/** Where the loose end of the target's piece should be attached on the uplink's side. */
function expectedAttachment(
  root: Namespace,
  uplink: Interface,
  loose: Node,
  targetAddress: string | undefined,
): Interface | undefined {
  const bridges = root.ovs?.bridges ?? [];
  if (loose.iface.kind === 'openvswitch') {
    // A patch pair cut: its peer's name usually names the other bridge (phy-br-ex ↔ br-ex).
    const patch = danglingPatch(root, loose.iface.ifname);
    const peer = patch?.options['peer'] ?? '';
    const other =
      bridges.find((b) => b.name !== loose.iface.ifname && peer.includes(b.name)) ??
      bridges.find((b) => b.name === uplink.ovsBridge && b.name !== loose.iface.ifname);
    return other ? ovsBridgeNode(root, other.name) : undefined;
  }
  // Neutron's qvo end belongs on the integration bridge: the one with the other qvo/iface-id ports.
  if (/^qvo/.test(loose.iface.ifname) && bridges.length > 0) {
    const integration =
      bridges.find((b) =>
        b.ports.some((p) => /^qvo/.test(p.name) || p.interfaces.some((i) => i.external_ids['iface-id'])),
      ) ?? bridges.find((b) => b.name === 'br-int');
    if (integration) return ovsBridgeNode(root, integration.name);
  }
  if (uplink.master) return root.interfaces.find((i) => i.ifname === uplink.master);
  if (uplink.ovsBridge) {
    // Siblings of the loose device (other taps/vnets) show which OVS bridge guests live on.
    const sibling = root.interfaces.find(
      (i) =>
        i.ovsBridge &&
        i !== loose.iface &&
        i.kind === loose.iface.kind &&
        i.ifname.slice(0, 3) === loose.iface.ifname.slice(0, 3),
    );
    return ovsBridgeNode(root, sibling?.ovsBridge ?? uplink.ovsBridge);
  }
  if (targetAddress) {
    const dev = routeDev(root, targetAddress);
    return dev && dev !== uplink.ifname ? root.interfaces.find((i) => i.ifname === dev) : undefined;
  }
  return undefined;
}

function toHop(node: Node, index: number, nodes: Node[]): Hop {
  const { ns, iface, via } = node;
  const next = nodes[index + 1];
  const isTarget = index === nodes.length - 1;
  let role: HopRole;
  let seesTransit = true;
  let note: string | undefined;
  if (index === 0) {
    role = 'uplink';
  } else if (via === 'gap' && ns.isRoot && (iface.kind === 'veth' || iface.kind === 'tap')) {
    role = isTarget ? 'backend' : 'bridge-port';
  } else if (isTarget && !ns.isRoot) {
    role = 'guest-nic';
  } else if (iface.kind === 'openvswitch') {
    // Inside the datapath: nothing to capture; OpenFlow explains this segment.
    role = 'bridge';
    seesTransit = false;
    note = 'not capturable: ofproto/trace explains it';
  } else if (iface.kind === 'bridge') {
    if (next && (next.via === 'bridge' || next.via === 'gap') && via === 'bridge') {
      role = 'bridge';
      seesTransit = false;
      note = 'frames are bridged port to port: not seen on the bridge device';
    } else {
      role = via === 'route' ? 'router' : 'bridge';
    }
  } else if (ns.isRoot && next && next.ns !== ns) {
    role = 'backend';
  } else if (next?.via === 'gap' && next.iface.kind === 'bridge' && iface.kind === 'veth') {
    // The loose veth of a chain of bridges cut between two bridges (see chainCut).
    role = 'bridge-port';
  } else if (iface.ovsBridge && iface.ifname === iface.ovsBridge) {
    // An OVS bridge's internal port: the host's own device on that bridge.
    role = 'bridge';
  } else if (ns.isRoot && isTarget && (iface.kind === 'tap' || iface.kind === 'macvtap' || iface.master)) {
    role = 'backend';
  } else if (iface.master || iface.ovsBridge) {
    role = 'bridge-port';
  } else if (
    next?.via === 'macvlan' &&
    next.iface.lower?.netns === ns.id &&
    next.iface.lower.ifindex === iface.ifindex
  ) {
    // The lower device of a macvlan/macvtap/ipvlan on the way (a guest's NIC whose child holds the
    // guest's address): the child's rx handler takes the frames from it, as a bridge port hands them on.
    role = 'bridge-port';
    note = `lower device of ${next.iface.ifname} (${next.iface.kind} mode ${next.iface.mode ?? '?'}): frames for ${next.iface.address ?? 'its MAC'} go on to it`;
  } else {
    role = 'router';
  }
  const addr = iface.addresses
    .filter((a) => a.scope !== 'link' && a.scope !== 'host')
    .map((a) => `${a.local}/${a.prefixlen}`);
  const ovs = ovsHop(node, nodes[index - 1], next);
  if (ovs) note = [ovsNote(ovs, iface.kind === 'openvswitch'), note].filter(Boolean).join('; ');
  return {
    netns: ns.id,
    ifname: iface.ifname,
    kind: iface.kind,
    role,
    seesTransit,
    isTarget,
    via,
    ...(iface.address ? { address: iface.address } : {}),
    mtu: iface.mtu,
    addresses: addr,
    ...(note ? { note } : {}),
    ...(ovs ? { ovs } : {}),
  };
}

/** The OVS port `name` (a port or interface name) of a bridge, as a hop sees it. */
function hopPort(ns: Namespace, bridge: string, name: string): OvsHopPort | undefined {
  const bridges = ns.ovs?.bridges ?? [];
  const br = bridges.find((b) => b.name === bridge);
  const port =
    br?.ports.find((p) => p.name === name) ?? br?.ports.find((p) => p.interfaces.some((i) => i.name === name));
  const i = port?.interfaces.find((x) => x.name === name) ?? port?.interfaces[0];
  if (!port || !i) return undefined;
  const vlan =
    port.tag !== undefined
      ? `access ${port.tag}`
      : port.trunks.length
        ? `trunk ${port.trunks.join(',')}`
        : 'trunk (all VLANs)';
  const peer = i.type === 'patch' ? i.options['peer'] : undefined;
  const peerBridge = peer
    ? bridges.find((b) => b.ports.some((p) => p.interfaces.some((x) => x.name === peer && x.type === 'patch')))?.name
    : undefined;
  return {
    name: port.name,
    ofport: i.ofport,
    type: i.type,
    vlan,
    ...(peer ? { peer } : {}),
    ...(peerBridge ? { peerBridge } : {}),
  };
}

/** The patch port of `bridge` whose peer is on `other`. */
function patchTo(ns: Namespace, bridge: string, other: string): OvsHopPort | undefined {
  const br = ns.ovs?.bridges.find((b) => b.name === bridge);
  for (const p of br?.ports ?? []) {
    const hp = hopPort(ns, bridge, p.name);
    if (hp?.type === 'patch' && hp.peerBridge === other) return hp;
  }
  return undefined;
}

/** How `neighbour` connects to the OVS bridge `bridge`: its port there. */
function portTowards(bridge: string, neighbour: Node | undefined): OvsHopPort | undefined {
  if (!neighbour) return undefined;
  const { ns, iface } = neighbour;
  if (iface.kind === 'openvswitch') return patchTo(ns, bridge, iface.ifname);
  if (iface.ovsBridge === bridge) return hopPort(ns, bridge, iface.ifname);
  return undefined;
}

function ovsHop(node: Node, prev: Node | undefined, next: Node | undefined): OvsHop | undefined {
  const { ns, iface } = node;
  if (!ns.ovs) return undefined;
  if (iface.kind === 'openvswitch') {
    const inPort = portTowards(iface.ifname, prev);
    const outPort = portTowards(iface.ifname, next);
    return { bridge: iface.ifname, ...(inPort ? { in: inPort } : {}), ...(outPort ? { out: outPort } : {}) };
  }
  if (!iface.ovsBridge) return undefined;
  const port = hopPort(ns, iface.ovsBridge, iface.ifname);
  const ids =
    ns.ovs.bridges.flatMap((b) => b.ports.flatMap((p) => p.interfaces)).find((i) => i.name === iface.ifname)
      ?.external_ids ?? {};
  const neutron = ids['iface-id']
    ? {
        portId: ids['iface-id'],
        ...(ids['vm-uuid'] ? { vmUuid: ids['vm-uuid'] } : {}),
        ...(ids['attached-mac'] ? { attachedMac: ids['attached-mac'] } : {}),
        ...(ids['iface-status'] ? { status: ids['iface-status'] } : {}),
      }
    : undefined;
  return { bridge: iface.ovsBridge, ...(port ? { port } : {}), ...(neutron ? { neutron } : {}) };
}

const portText = (p: OvsHopPort) =>
  `${p.name}#${p.ofport}${p.type === 'patch' ? ` (patch ═ ${p.peer ?? '?'}${p.peerBridge ? ` on ${p.peerBridge}` : ', peer missing'}, ${p.vlan})` : ` (${p.vlan})`}`;

function ovsNote(o: OvsHop, isBridge: boolean): string {
  if (isBridge) {
    return `OVS ${o.bridge}: in ${o.in ? portText(o.in) : '?'} → out ${o.out ? portText(o.out) : '?'}`;
  }
  const parts = [`port ${o.port ? `#${o.port.ofport}` : '?'} of ${o.bridge}`, o.port?.vlan ?? ''];
  if (o.neutron) parts.push(`Neutron port ${o.neutron.portId}${o.neutron.status ? ` (${o.neutron.status})` : ''}`);
  return parts.filter(Boolean).join(', ');
}

/**
 * The DNAT step of a published port: the host address probes go to (the
 * uplink's when the port is published on every address) and the nat rule that
 * maps it to the container, or a note that there is none.
 */
function publishedStep(
  root: Namespace,
  uplink: Interface,
  p: NonNullable<ResolvedTarget['published']>,
  targetAddress: string | undefined,
  notes: string[],
): NonNullable<Path['target']['published']> {
  const address = p.address ?? uplink.addresses.find((a) => a.family === 'inet')?.local ?? '';
  const dnat = iptablesDnatRules(root).find((r) =>
    dnatMaps(
      r.spec,
      {
        port: p.port,
        ...(p.proto === 'udp' || p.proto === 'tcp' ? { proto: p.proto } : {}),
        ...(p.address ? { destination: p.address } : {}),
      },
      targetAddress ? [targetAddress] : [],
    ),
  );
  notes.push(
    dnat
      ? `DNAT step in ${root.id}: ${address}:${p.port} -> ${targetAddress ?? '?'}:${p.containerPort} by iptables -t nat ${dnat.spec}`
      : `DNAT step in ${root.id}: no iptables nat rule maps ${address}:${p.port} to ${targetAddress ?? 'the container'}`,
  );
  return {
    address,
    port: p.port,
    containerPort: p.containerPort,
    proto: p.proto,
    ...(dnat ? { dnat: dnat.spec } : {}),
  };
}
