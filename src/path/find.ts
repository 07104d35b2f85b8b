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

const key = (ns: Namespace, ifname: string) => `${ns.id}\u0000${ifname}`;

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
  // A bridge port does no IP of its own: routing happens on its bridge.
  if (!iface.master && targetAddress) {
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
  const startKey = key(start.ns, start.iface.ifname);
  parent.set(startKey, { node: start, prev: null });
  const queue: string[] = [startKey];
  const goal = key(targetNs, targetIface.ifname);
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
      const nk = key(next.ns, next.iface.ifname);
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
  } else if (ns.isRoot && isTarget && (iface.kind === 'tap' || iface.master)) {
    role = 'backend';
  } else if (iface.master) {
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
