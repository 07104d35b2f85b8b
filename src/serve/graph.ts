import type { Interface, Namespace, Topology } from '../model/topology.js';

/**
 * The host's datapath as a graph for `hopdump serve` (cytoscape.js elements): namespaces as
 * compound nodes holding their interfaces; Open vSwitch bridges; libvirt domains, Docker/Podman
 * containers as nodes of their own joined to their NICs. Edges: veth pairs, bridge ports, OVS
 * ports and patch peers, macvlan/macvtap lower devices. Every node carries the words it is found
 * by (names, addresses, MACs, domain, container, Neutron port) in `search`.
 */

export type GraphNodeKind = 'netns' | 'interface' | 'ovs-bridge' | 'domain' | 'container';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  parent?: string;
  /** The interface kind (bridge, veth, tap, physical, ...), for its shape. */
  ifkind?: string;
  netns?: string;
  ifname?: string;
  addresses: string[];
  mac?: string;
  /** What `--target` to diagnose it with (a guest NIC's address, a domain or container name). */
  target?: string;
  /** Lower-cased words it is found by. */
  search: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: 'veth' | 'bridge-port' | 'ovs-port' | 'ovs-patch' | 'lower' | 'nic';
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const ifNodeId = (netns: string, ifname: string) => `if:${netns}/${ifname}`;

function words(...xs: Array<string | undefined | null>): string {
  return xs
    .filter((x): x is string => Boolean(x))
    .join(' ')
    .toLowerCase();
}

export function buildGraph(t: Topology): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const edgeIds = new Set<string>();
  const addEdge = (source: string, target: string, kind: GraphEdge['kind']) => {
    const [a, b] = kind === 'veth' || kind === 'ovs-patch' ? [source, target].sort() : [source, target];
    const id = `${kind}:${a}~${b}`;
    if (edgeIds.has(id)) return;
    edgeIds.add(id);
    edges.push({ id, source: a!, target: b!, kind });
  };
  const byIfindex = new Map<string, Map<number, Interface>>();
  for (const ns of t.namespaces) byIfindex.set(ns.id, new Map(ns.interfaces.map((i) => [i.ifindex, i])));
  const peerNode = (ns: Namespace, p: { netns: string | null; ifindex: number; ifname?: string | undefined }) => {
    const where = p.netns ?? ns.id;
    const peer = byIfindex.get(where)?.get(p.ifindex);
    return peer ? ifNodeId(where, peer.ifname) : undefined;
  };
  for (const ns of t.namespaces) {
    if (ns.interfaces.every((i) => i.kind === 'loopback')) continue;
    const nsId = `ns:${ns.id}`;
    nodes.push({
      id: nsId,
      kind: 'netns',
      label: ns.name ?? ns.id,
      addresses: [],
      search: words(ns.id, ns.name),
    });
    for (const i of ns.interfaces) {
      if (i.kind === 'loopback') continue;
      const addrs = i.addresses.map((a) => a.local);
      nodes.push({
        id: ifNodeId(ns.id, i.ifname),
        kind: 'interface',
        label: i.ifname,
        parent: nsId,
        ifkind: i.kind,
        netns: ns.id,
        ifname: i.ifname,
        addresses: addrs,
        ...(i.address ? { mac: i.address } : {}),
        ...(addrs.find((a) => !a.startsWith('fe80')) && !ns.isRoot
          ? { target: addrs.find((a) => !a.startsWith('fe80'))! }
          : {}),
        search: words(i.ifname, ns.id, ns.name, i.address, ...addrs),
      });
    }
    for (const i of ns.interfaces) {
      const me = ifNodeId(ns.id, i.ifname);
      if (i.kind === 'veth' && i.peer) {
        const p = peerNode(ns, i.peer);
        if (p) addEdge(me, p, 'veth');
      }
      if (i.master && ns.interfaces.some((m) => m.ifname === i.master))
        addEdge(me, ifNodeId(ns.id, i.master), 'bridge-port');
      if (i.lower) {
        const p = peerNode(ns, i.lower);
        if (p) addEdge(me, p, 'lower');
      }
    }
    for (const br of ns.ovs?.bridges ?? []) {
      const brId = `ovs:${ns.id}/${br.name}`;
      nodes.push({
        id: brId,
        kind: 'ovs-bridge',
        label: br.name,
        parent: nsId,
        netns: ns.id,
        addresses: [],
        search: words(br.name, 'ovs', ns.id),
      });
      for (const port of br.ports)
        for (const oi of port.interfaces) {
          const ifId = ifNodeId(ns.id, oi.name);
          const known = nodes.find((n) => n.id === ifId);
          if (known) {
            const portId = oi.external_ids['iface-id'];
            if (portId)
              known.search = words(known.search, portId, oi.external_ids['vm-uuid'], oi.external_ids['attached-mac']);
            addEdge(ifId, brId, 'ovs-port');
          }
          const peer = oi.options.peer;
          if (oi.type === 'patch' && peer) {
            const other = (ns.ovs?.bridges ?? []).find((b) =>
              b.ports.some((p) => p.interfaces.some((x) => x.name === peer)),
            );
            if (other) addEdge(brId, `ovs:${ns.id}/${other.name}`, 'ovs-patch');
          }
        }
    }
  }
  const root = t.namespaces.find((n) => n.isRoot);
  for (const d of t.domains ?? []) {
    const id = `domain:${d.name}`;
    nodes.push({
      id,
      kind: 'domain',
      label: d.name,
      addresses: [],
      target: d.name,
      search: words(d.name, d.uuid, ...d.interfaces.map((i) => i.mac), d.state),
    });
    for (const nic of d.interfaces)
      if (nic.targetDev && root && root.interfaces.some((i) => i.ifname === nic.targetDev))
        addEdge(id, ifNodeId(root.id, nic.targetDev), 'nic');
  }
  for (const state of [t.docker, t.podman])
    for (const c of state?.containers ?? []) {
      const id = `container:${c.id}`;
      nodes.push({
        id,
        kind: 'container',
        label: c.name,
        addresses: c.endpoints.map((e) => e.ipAddress).filter((a): a is string => Boolean(a)),
        target: c.name,
        search: words(c.name, c.id.slice(0, 12), c.image, ...c.endpoints.flatMap((e) => [e.ipAddress, e.macAddress])),
      });
      for (const e of c.endpoints)
        if (e.netns && e.ifname && nodes.some((n) => n.id === ifNodeId(e.netns!, e.ifname!)))
          addEdge(id, ifNodeId(e.netns, e.ifname), 'nic');
    }
  return { nodes, edges };
}

/** Nodes whose words contain every word of the query (names, addresses, MACs, ...). */
export function searchGraph(g: Graph, query: string): GraphNode[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [];
  return g.nodes.filter((n) => terms.every((t) => n.search.includes(t)));
}
