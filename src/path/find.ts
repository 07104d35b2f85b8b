import { prefixContains } from '../model/ip.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';
import { rootNamespace } from '../model/topology.js';
import { resolveTarget } from './resolve.js';
import type { Hop, HopRole, Path } from './types.js';
import { findUplink } from './uplink.js';

export interface PathOptions {
  /** The uplink interface when hopdump cannot tell it. */
  uplink?: string;
}

interface Node {
  ns: Namespace;
  iface: Interface;
  via: Hop['via'];
}

/** Graph node key; an Open vSwitch bridge is a node of its own, apart from its internal port's device. */
const key = (ns: Namespace, ifname: string, kind?: string) => `${ns.id}\u0000${kind === 'openvswitch' ? 'ovs:' : ''}${ifname}`;

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
  const target = resolveTarget(topology, query);
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
  return {
    target: {
      query,
      type: target.type,
      netns: target.ns.id,
      ifname: target.iface.ifname,
      ...(target.address ? { address: target.address } : {}),
    },
    hops,
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
    for (const port of ns.interfaces.filter((i) => i.master === iface.ifname)) out.push({ ns, iface: port, via: 'bridge' });
  }
  // Open vSwitch: a port leads to its bridge, a bridge to its ports and, through
  // patch port pairs, to the bridge on the other side.
  if (iface.ovsBridge) out.push({ ns, iface: ovsBridgeNode(ns, iface.ovsBridge), via: 'bridge' });
  if (iface.kind === 'openvswitch') {
    for (const port of ns.interfaces.filter((i) => i.ovsBridge === iface.ifname)) out.push({ ns, iface: port, via: 'bridge' });
    const bridge = ns.ovs?.bridges.find((b) => b.name === iface.ifname);
    for (const p of bridge?.ports ?? []) {
      for (const i of p.interfaces) {
        const peer = i.type === 'patch' ? i.options['peer'] : undefined;
        const other = peer ? ns.ovs!.bridges.find((b) => b.ports.some((q) => q.interfaces.some((x) => x.name === peer))) : undefined;
        if (other) out.push({ ns, iface: ovsBridgeNode(ns, other.name), via: 'patch' });
      }
    }
  }
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
 * The path as it should be when the target is cut off: the uplink side (the
 * uplink, its bridge, or the device the host routes the target to), then the
 * target's chain of veth peers back into the root namespace.
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
  const chain: Node[] = [{ ns: targetNs, iface: targetIface, via: 'veth' }];
  const seen = new Set([key(targetNs, targetIface.ifname)]);
  let cur = chain[0]!;
  while (cur.ns !== root) {
    const peer = cur.iface.peer;
    const peerNs = peer?.netns ? byId.get(peer.netns) : undefined;
    const next = peerNs?.interfaces.find((i) => i.ifindex === peer!.ifindex);
    if (!peerNs || !next || seen.has(key(peerNs, next.ifname))) break;
    seen.add(key(peerNs, next.ifname));
    cur = { ns: peerNs, iface: next, via: 'veth' };
    chain.unshift(cur);
  }
  const side: Node[] = [{ ns: root, iface: uplink, via: 'start' }];
  let expected: Interface | undefined;
  if (uplink.master) {
    expected = root.interfaces.find((i) => i.ifname === uplink.master);
  } else if (targetAddress) {
    const dev = routeDev(root, targetAddress);
    expected = dev && dev !== uplink.ifname ? root.interfaces.find((i) => i.ifname === dev) : undefined;
  }
  if (expected) side.push({ ns: root, iface: expected, via: uplink.master ? 'bridge' : 'route' });
  const first = chain[0]!;
  first.via = 'gap';
  const attach = side[side.length - 1]!.iface;
  if (first.ns === root) {
    const where = first.iface.master ? `enslaved to ${first.iface.master}` : 'not enslaved to any bridge';
    notes.push(
      `${first.iface.ifname} is ${where}${attach.kind === 'bridge' ? `; the path needs it on ${attach.ifname}` : ''}`,
    );
  } else {
    notes.push(`no link found from ${attach.ifname} in ${root.id} to ${first.ns.id}/${first.iface.ifname}`);
  }
  return [...side, ...chain];
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
  } else if (isTarget && !ns.isRoot) {
    role = 'guest-nic';
  } else if (iface.kind === 'openvswitch') {
    // Inside the datapath: nothing to capture; OpenFlow explains this segment.
    role = 'bridge';
    seesTransit = false;
    note = 'Open vSwitch bridge: not capturable, see its flows (ovs-ofctl dump-flows, ofproto/trace)';
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
  } else if (iface.ovsBridge && iface.ifname === iface.ovsBridge) {
    // An OVS bridge's internal port: the host's own device on that bridge.
    role = 'bridge';
  } else if (ns.isRoot && isTarget && (iface.kind === 'tap' || iface.master)) {
    role = 'backend';
  } else if (iface.master || iface.ovsBridge) {
    role = 'bridge-port';
  } else {
    role = 'router';
  }
  const addr = iface.addresses.filter((a) => a.scope !== 'link' && a.scope !== 'host').map((a) => `${a.local}/${a.prefixlen}`);
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
  };
}
