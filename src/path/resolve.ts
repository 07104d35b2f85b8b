import { isIP } from 'node:net';
import { usageError } from '../errors.js';
import { isMac } from '../model/ip.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';
import { rootNamespace } from '../model/topology.js';

export interface ResolvedTarget {
  type: 'ip' | 'mac' | 'ifname' | 'netns';
  ns: Namespace;
  iface: Interface;
  address?: string;
  notes: string[];
}

/**
 * Finds the interface a target names: an IPv4/IPv6 address, a MAC, an
 * interface name (optionally NETNS/IFNAME) or netns:NAME. An address held by
 * several interfaces (an IP conflict) resolves to the one that has it as its
 * first address, with a note naming the others.
 */
export function resolveTarget(topology: Topology, query: string): ResolvedTarget {
  const namespaces = topology.namespaces.filter((n) => n.collected);
  const root = rootNamespace(topology);
  const ordered = [...namespaces.filter((n) => !n.isRoot), root];
  if (query.startsWith('netns:')) {
    const name = query.slice('netns:'.length);
    const ns = namespaces.find((n) => n.id === name || n.name === name);
    if (!ns) throw usageError(`target ${query} not found`, "no such namespace here; see 'ip netns list'");
    const iface =
      ns.interfaces.find((i) => i.kind !== 'loopback' && i.addresses.some((a) => a.scope !== 'link' && a.scope !== 'host')) ??
      ns.interfaces.find((i) => i.kind !== 'loopback');
    if (!iface) throw usageError(`target ${query} has no network interface besides lo`);
    const addr = iface.addresses.find((a) => a.family === 'inet') ?? iface.addresses[0];
    return { type: 'netns', ns, iface, ...(addr ? { address: addr.local } : {}), notes: [] };
  }
  if (isIP(query)) {
    const holders: Array<{ ns: Namespace; iface: Interface; first: boolean }> = [];
    for (const ns of ordered) {
      for (const iface of ns.interfaces) {
        const idx = iface.addresses.findIndex((a) => a.local === query);
        if (idx >= 0) holders.push({ ns, iface, first: idx === iface.addresses.findIndex((a) => a.family === iface.addresses[idx]!.family) });
      }
    }
    if (holders.length === 0) {
      // A real VM's address lives in its guest, not here: follow the root's
      // neighbour entry for it to the bridge port that learned its MAC.
      for (const n of root.neighbours.filter((x) => x.dst === query && x.lladdr)) {
        const port = learnedPort(root, n.lladdr!) ?? root.interfaces.find((i) => i.ifname === n.dev && i.kind !== 'bridge');
        if (port) {
          return {
            type: 'ip',
            ns: root,
            iface: port,
            address: query,
            notes: [`${query} is not an address of this host; its MAC ${n.lladdr} was learned on ${port.ifname}`],
          };
        }
      }
      throw usageError(`target ${query} not found`, 'no interface in any namespace here holds that address, and no neighbour entry names it');
    }
    const best = holders.find((h) => h.first) ?? holders[0]!;
    const notes = holders
      .filter((h) => h !== best)
      .map((h) => `${query} is also held by ${h.ns.id}/${h.iface.ifname} (${h.iface.address ?? 'no MAC'})`);
    return { type: 'ip', ns: best.ns, iface: best.iface, address: query, notes };
  }
  if (isMac(query)) {
    const mac = query.toLowerCase();
    const holders = ordered.flatMap((ns) => ns.interfaces.filter((i) => i.address?.toLowerCase() === mac).map((iface) => ({ ns, iface })));
    // A bridge's own MAC is shared with a port; the port side is the more specific answer.
    const best = holders.find((h) => h.iface.kind !== 'bridge' && !h.ns.isRoot) ?? holders.find((h) => h.iface.kind !== 'bridge') ?? holders[0];
    if (best) {
      const notes = holders
        .filter((h) => h !== best && h.iface.kind !== 'bridge' && h.iface.master === undefined)
        .map((h) => `${query} is also the MAC of ${h.ns.id}/${h.iface.ifname}`);
      const addr = best.iface.addresses.find((a) => a.family === 'inet');
      return { type: 'mac', ns: best.ns, iface: best.iface, ...(addr ? { address: addr.local } : {}), notes };
    }
    const port = learnedPort(root, mac);
    if (port) {
      return { type: 'mac', ns: root, iface: port, notes: [`${query} is not a local interface; ${port.master} learned it on ${port.ifname}`] };
    }
    throw usageError(`target ${query} not found`, 'no interface has that MAC and no bridge has learned it');
  }
  if (/^[\w.:@+-]+(\/[\w.:@+-]{1,15})?$/.test(query)) {
    const [nsPart, ifPart] = query.includes('/') ? (query.split('/') as [string, string]) : [undefined, query];
    const search = nsPart ? namespaces.filter((n) => n.id === nsPart || n.name === nsPart) : [root, ...ordered.filter((n) => !n.isRoot)];
    for (const ns of search) {
      const iface = ns.interfaces.find((i) => i.ifname === ifPart);
      if (iface) {
        const addr = iface.addresses.find((a) => a.family === 'inet');
        return { type: 'ifname', ns, iface, ...(addr ? { address: addr.local } : {}), notes: [] };
      }
    }
    throw usageError(`target ${query} not found`, 'no interface of that name here (name it as NETNS/IFNAME for a namespace)');
  }
  throw usageError(`target '${query}' is not an address, a MAC, an interface or netns:NAME`);
}

/** The bridge port on which a bridge of the namespace learned `mac`. */
function learnedPort(ns: Namespace, mac: string): Interface | undefined {
  for (const bridge of ns.bridges) {
    const entry = bridge.fdb.find((e) => e.mac.toLowerCase() === mac.toLowerCase() && e.state !== 'permanent');
    const port = entry && ns.interfaces.find((i) => i.ifname === entry.ifname);
    if (port) return port;
  }
  return undefined;
}
