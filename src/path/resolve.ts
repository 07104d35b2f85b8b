import { isIP } from 'node:net';
import { usageError } from '../errors.js';
import { canonicalIpv6, isMac } from '../model/ip.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';
import { rootNamespace } from '../model/topology.js';
import { resolveFromPrefix } from './silent.js';
import type { Candidate } from '../model/path.js';

export interface ResolvedTarget {
  type: 'ip' | 'mac' | 'ifname' | 'netns' | 'neutron-port' | 'vm-uuid' | 'domain' | 'container';
  ns: Namespace;
  iface: Interface;
  address?: string;
  notes: string[];
  container?: { id: string; name: string };
  /** CONTAINER:PORT: the published host port (address undefined = every host address). */
  published?: { address?: string; port: number; containerPort: number; proto: 'tcp' | 'udp' | 'sctp' };
  /** An address resolved from its prefix (a silent guest): the backends it may be behind. */
  candidates?: Candidate[];
}

export interface ResolveOptions {
  /** The uplink: never a candidate backend of a silent guest. */
  uplink?: Interface;
}

/**
 * Finds the interface a target names: an IPv4/IPv6 address, a MAC, an
 * interface name (optionally NETNS/IFNAME) or netns:NAME. An address held by
 * several interfaces (an IP conflict) resolves to the one that has it as its
 * first address, with a note naming the others.
 */
export function resolveTarget(topology: Topology, query: string, options: ResolveOptions = {}): ResolvedTarget {
  query = canonicalIpv6(query); // as iproute2 prints it: 2001:DB8:0::11 is 2001:db8::11
  const namespaces = topology.namespaces.filter((n) => n.collected);
  const root = rootNamespace(topology);
  const ordered = [...namespaces.filter((n) => !n.isRoot), root];
  if (query.startsWith('netns:')) {
    const name = query.slice('netns:'.length);
    const ns = namespaces.find((n) => n.id === name || n.name === name);
    if (!ns) throw usageError(`target ${query} not found`, "no such namespace here; see 'ip netns list'");
    const iface =
      ns.interfaces.find(
        (i) => i.kind !== 'loopback' && i.addresses.some((a) => a.scope !== 'link' && a.scope !== 'host'),
      ) ?? ns.interfaces.find((i) => i.kind !== 'loopback');
    if (!iface) throw usageError(`target ${query} has no network interface besides lo`);
    const addr = iface.addresses.find((a) => a.family === 'inet') ?? iface.addresses[0];
    return { type: 'netns', ns, iface, ...(addr ? { address: addr.local } : {}), notes: [] };
  }
  if (isIP(query)) {
    const holders: Array<{ ns: Namespace; iface: Interface; first: boolean }> = [];
    for (const ns of ordered) {
      for (const iface of ns.interfaces) {
        const idx = iface.addresses.findIndex((a) => a.local === query);
        if (idx >= 0)
          holders.push({
            ns,
            iface,
            first: idx === iface.addresses.findIndex((a) => a.family === iface.addresses[idx]!.family),
          });
      }
    }
    if (holders.length === 0) {
      // A real VM's address lives in its guest, not here: follow the root's
      // neighbour entry for it to the bridge port that learned its MAC.
      for (const n of root.neighbours.filter((x) => x.dst === query && x.lladdr)) {
        // A direct (macvtap) guest: no bridge learns its MAC, its macvtap carries it.
        const macvtap = root.interfaces.find(
          (i) => i.kind === 'macvtap' && i.address?.toLowerCase() === n.lladdr!.toLowerCase(),
        );
        const port =
          learnedPort(root, n.lladdr!) ??
          macvtap ??
          root.interfaces.find((i) => i.ifname === n.dev && i.kind !== 'bridge');
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
      // A silent guest: from the prefix that holds it (docs/targets.md).
      const fromPrefix = resolveFromPrefix(topology, query, options.uplink);
      if (fromPrefix) {
        return {
          type: 'ip',
          ns: fromPrefix.ns,
          iface: fromPrefix.iface,
          address: query,
          notes: fromPrefix.notes,
          candidates: fromPrefix.candidates,
        };
      }
      throw usageError(
        `target ${query} not found`,
        'no interface in any namespace here holds that address or a prefix containing it, and no neighbour entry names it',
      );
    }
    const best = holders.find((h) => h.first) ?? holders[0]!;
    const notes = holders
      .filter((h) => h !== best)
      .map((h) => `${query} is also held by ${h.ns.id}/${h.iface.ifname} (${h.iface.address ?? 'no MAC'})`);
    return { type: 'ip', ns: best.ns, iface: best.iface, address: query, notes };
  }
  if (isMac(query)) {
    const mac = query.toLowerCase();
    const holders = ordered.flatMap((ns) =>
      ns.interfaces.filter((i) => i.address?.toLowerCase() === mac).map((iface) => ({ ns, iface })),
    );
    // A bridge's own MAC is shared with a port; the port side is the more specific answer.
    const best =
      holders.find((h) => h.iface.kind !== 'bridge' && !h.ns.isRoot) ??
      holders.find((h) => h.iface.kind !== 'bridge') ??
      holders[0];
    if (best) {
      const notes = holders
        .filter((h) => h !== best && h.iface.kind !== 'bridge' && h.iface.master === undefined)
        .map((h) => `${query} is also the MAC of ${h.ns.id}/${h.iface.ifname}`);
      const addr = best.iface.addresses.find((a) => a.family === 'inet');
      return { type: 'mac', ns: best.ns, iface: best.iface, ...(addr ? { address: addr.local } : {}), notes };
    }
    const port = learnedPort(root, mac);
    if (port) {
      return {
        type: 'mac',
        ns: root,
        iface: port,
        notes: [`${query} is not a local interface; ${port.master} learned it on ${port.ifname}`],
      };
    }
    throw usageError(`target ${query} not found`, 'no interface has that MAC and no bridge has learned it');
  }
  const domain = resolveDomain(topology, namespaces, root, query);
  if (domain) return domain;
  const container = resolveContainer(topology, namespaces, query);
  if (container) return container;
  if (/^[0-9a-f][0-9a-f-]{7,35}$/i.test(query)) {
    const found = resolveNeutron(namespaces, root, query.toLowerCase());
    if (found) return found;
  }
  if (/^[\w.:@+-]+(\/[\w.:@+-]{1,15})?$/.test(query)) {
    const [nsPart, ifPart] = query.includes('/') ? (query.split('/') as [string, string]) : [undefined, query];
    const search = nsPart
      ? namespaces.filter((n) => n.id === nsPart || n.name === nsPart)
      : [root, ...ordered.filter((n) => !n.isRoot)];
    for (const ns of search) {
      const iface = ns.interfaces.find((i) => i.ifname === ifPart);
      if (iface) {
        const addr = iface.addresses.find((a) => a.family === 'inet');
        return { type: 'ifname', ns, iface, ...(addr ? { address: addr.local } : {}), notes: [] };
      }
    }
    throw usageError(
      `target ${query} not found`,
      'no interface of that name here (name it as NETNS/IFNAME for a namespace)',
    );
  }
  throw usageError(`target '${query}' is not an address, a MAC, an interface or netns:NAME`);
}

/**
 * The bridge port behind which a bridge of the namespace learned `mac`. On a
 * chain of bridges (Proxmox's vmbr0 ─ fwprNpM ⇄ fwlnNiM ─ fwbrNiM, Neutron's
 * qvo ⇄ qvb ─ qbr, a veth into a nested bridge) the outer bridge learns it on
 * the port towards the next bridge: followed through the veth to the port the
 * next bridge learned it on, down to the guest's own backend.
 */
export function learnedPort(ns: Namespace, mac: string): Interface | undefined {
  const learnedOn = (bridge: Namespace['bridges'][number]) => {
    const entry = bridge.fdb.find((e) => e.mac.toLowerCase() === mac.toLowerCase() && e.state !== 'permanent');
    return entry && ns.interfaces.find((i) => i.ifname === entry.ifname);
  };
  for (const bridge of ns.bridges) {
    let port = learnedOn(bridge);
    const seen = new Set([bridge.ifname]);
    while (port && port.kind === 'veth' && port.peer?.netns === ns.id) {
      const peer = ns.interfaces.find((i) => i.ifindex === port!.peer!.ifindex);
      const next =
        peer?.master && !seen.has(peer.master) ? ns.bridges.find((b) => b.ifname === peer.master) : undefined;
      const further = next ? learnedOn(next) : undefined;
      if (!next || !further) break;
      seen.add(next.ifname);
      port = further;
    }
    if (port) return port;
  }
  return undefined;
}

/**
 * A Neutron port UUID (or a prefix of it, such as the 11 characters in its
 * device names) or a Nova instance UUID, from the Interface external_ids that
 * Nova and the agent set (iface-id, vm-uuid). The target is the guest's NIC
 * behind the port: tap<id11> and its veth peer when the guest is a namespace,
 * else the tap itself with the address its attached-mac has in the host's
 * neighbour table.
 */
function resolveNeutron(namespaces: Namespace[], root: Namespace, query: string): ResolvedTarget | undefined {
  const ports = namespaces.flatMap((ns) =>
    (ns.ovs?.bridges ?? []).flatMap((b) =>
      b.ports.flatMap((p) =>
        p.interfaces.filter((i) => i.external_ids['iface-id']).map((i) => ({ ns, bridge: b.name, i })),
      ),
    ),
  );
  let type: ResolvedTarget['type'] = 'neutron-port';
  let hits = ports.filter((p) => p.i.external_ids['iface-id']!.toLowerCase().startsWith(query));
  if (hits.length === 0) {
    type = 'vm-uuid';
    hits = ports.filter((p) => p.i.external_ids['vm-uuid']?.toLowerCase().startsWith(query));
  }
  if (hits.length === 0) return undefined;
  const notes: string[] = [];
  if (hits.length > 1) {
    const ids = hits.map((h) => h.i.external_ids['iface-id']!);
    if (type === 'neutron-port')
      throw usageError(
        `target ${query} matches ${hits.length} Neutron ports (${ids.join(', ')})`,
        'give more of the port UUID',
      );
    notes.push(
      `instance ${query} has ${hits.length} ports (${ids.join(', ')}); following the first, name a port UUID for another`,
    );
  }
  const hit = hits[0]!;
  const portId = hit.i.external_ids['iface-id']!;
  const mac = hit.i.external_ids['attached-mac']?.toLowerCase();
  notes.push(
    `Neutron port ${portId}${hit.i.external_ids['vm-uuid'] ? ` of instance ${hit.i.external_ids['vm-uuid']}` : ''} is ${hit.i.name} on ${hit.bridge}`,
  );
  const ns = hit.ns;
  const tap =
    ns.interfaces.find((x) => x.ifname === `tap${portId.slice(0, 11)}`) ??
    ns.interfaces.find((x) => x.ifname === hit.i.name);
  if (!tap)
    throw usageError(`Neutron port ${portId}: neither tap${portId.slice(0, 11)} nor ${hit.i.name} exists in ${ns.id}`);
  const behind = behindTap(namespaces, root, ns, tap, mac);
  if (!behind.guest && !behind.address)
    notes.push(
      `no neighbour entry for ${mac ?? 'its MAC'}: the guest's address is unknown, give it with --target ADDRESS`,
    );
  return { type, ns: behind.ns, iface: behind.iface, ...(behind.address ? { address: behind.address } : {}), notes };
}

/**
 * What is behind a guest's tap: the guest's NIC when the model has it (a
 * veth peer, or the NIC a guest agent showed), else the tap itself with the
 * address the guest's MAC has in the host's neighbour table.
 */
function behindTap(
  namespaces: Namespace[],
  root: Namespace,
  tapNs: Namespace,
  tap: Interface,
  mac: string | undefined,
): { ns: Namespace; iface: Interface; address?: string; guest: boolean } {
  const guestNs = tap.peer?.netns ? namespaces.find((n) => n.id === tap.peer!.netns) : undefined;
  const guest = guestNs?.interfaces.find((x) => x.ifindex === tap.peer!.ifindex);
  if (guestNs && guest && guestNs !== tapNs) {
    const addr = guest.addresses.find((a) => a.family === 'inet');
    return { ns: guestNs, iface: guest, ...(addr ? { address: addr.local } : {}), guest: true };
  }
  const neigh = mac ? root.neighbours.find((n) => n.lladdr?.toLowerCase() === mac && !n.dst.includes(':')) : undefined;
  return { ns: tapNs, iface: tap, ...(neigh ? { address: neigh.dst } : {}), guest: false };
}

/**
 * A libvirt domain by name or UUID, or DOMAIN:MAC for one of several NICs.
 * The target is the guest's NIC when its agent showed it (joined to the tap),
 * else the tap itself with the address the NIC's MAC has in the host's
 * neighbour table.
 */
function resolveDomain(
  topology: Topology,
  namespaces: Namespace[],
  root: Namespace,
  query: string,
): ResolvedTarget | undefined {
  const domains = topology.domains ?? [];
  if (domains.length === 0) return undefined;
  const m = query.match(/^(.+?):((?:[0-9a-f]{2}:){5}[0-9a-f]{2})$/i);
  const name = m ? m[1]! : query;
  const d = domains.find(
    (x) =>
      x.name === name || x.uuid.toLowerCase() === name.toLowerCase() || x.nova?.instanceUuid === name.toLowerCase(),
  );
  if (!d) return undefined;
  const nics = d.interfaces.filter((i) => !m || i.mac?.toLowerCase() === m[2]!.toLowerCase());
  if (nics.length === 0)
    throw usageError(
      `domain ${d.name} has no NIC with MAC ${m?.[2] ?? '?'}`,
      `its NICs: ${d.interfaces.map((i) => i.mac).join(', ')}`,
    );
  const notes: string[] = [];
  if (nics.length > 1)
    notes.push(
      `domain ${d.name} has ${nics.length} NICs (${nics.map((i) => i.mac).join(', ')}); following the first, name one as ${d.name}:MAC`,
    );
  const nic = nics[0]!;
  if (d.state !== 'running' || !nic.targetDev)
    throw usageError(`domain ${d.name} is ${d.state}: its NIC has no tap to follow`, `virsh start ${d.name}`);
  const tap = root.interfaces.find((i) => i.ifname === nic.targetDev);
  if (!tap) throw usageError(`domain ${d.name}: its tap ${nic.targetDev} is not in ${root.id}`);
  notes.push(
    `domain ${d.name} (${d.uuid}) NIC ${nic.mac ?? '?'} is ${tap.ifname}${nic.sourceBridge ? ` on ${nic.sourceBridge}` : ''}`,
  );
  const behind = behindTap(namespaces, root, root, tap, nic.mac?.toLowerCase());
  if (!behind.guest)
    notes.push(
      `no guest agent view of ${d.name}: the path stops at its tap${behind.address ? '' : ', and its address is unknown (give it with --target ADDRESS)'}`,
    );
  return {
    type: 'domain',
    ns: behind.ns,
    iface: behind.iface,
    ...(behind.address ? { address: behind.address } : {}),
    notes,
  };
}

/**
 * A Docker container by name or ID (a unique prefix of 4+ characters, as
 * `docker` accepts), or CONTAINER:PORT for one of its published ports (the
 * container's port, or the host port it is published on). The target is the
 * container's NIC in its own namespace.
 */
function resolveContainer(topology: Topology, namespaces: Namespace[], query: string): ResolvedTarget | undefined {
  // Podman's containers are named like Docker's (podman run --name): both are looked in.
  const containers = [...(topology.docker?.containers ?? []), ...(topology.podman?.containers ?? [])];
  if (containers.length === 0) return undefined;
  const m = query.match(/^(.+):(\d{1,5})$/);
  const name = (m ? m[1]! : query).replace(/^\//, '');
  let hits = containers.filter((c) => c.name === name);
  if (hits.length === 0 && /^[0-9a-f]{4,64}$/i.test(name))
    hits = containers.filter((c) => c.id.startsWith(name.toLowerCase()));
  if (hits.length === 0) return undefined;
  if (hits.length > 1)
    throw usageError(
      `target ${name} matches ${hits.length} containers (${hits.map((c) => c.name).join(', ')})`,
      'give more of the container ID, or its name',
    );
  let c = hits[0]!;
  const via: string[] = [];
  // --network container:OTHER: it lives in the other container's namespace.
  for (let i = 0; i < 4 && c.networkMode.startsWith('container:'); i++) {
    const other = c.networkMode.slice('container:'.length);
    const o = containers.find((x) => x.id === other || x.id.startsWith(other) || x.name === other);
    if (!o) break;
    via.push(
      `container ${c.name} shares the network namespace of ${o.name} (--network container:${other.slice(0, 12)})`,
    );
    c = o;
  }
  if (c.state !== 'running')
    throw usageError(
      `container ${c.name} is ${c.state}: it has no network namespace to follow`,
      `docker start ${c.name}`,
    );
  if (c.networkMode === 'host')
    throw usageError(
      `container ${c.name} uses the host's network (--network host): there is no container datapath`,
      'target the host address and port instead',
    );
  const eps = c.endpoints.filter((e) => e.netns && e.ifname);
  const e = eps[0];
  const ns = e && namespaces.find((n) => n.id === e.netns);
  const iface = ns?.interfaces.find((i) => i.ifname === e!.ifname);
  if (!e || !ns || !iface) {
    throw usageError(
      `container ${c.name}: none of its endpoints (${c.endpoints.map((x) => `${x.network} ${x.macAddress ?? '-'}`).join(', ') || 'none'}) was found in a namespace here`,
      'run as root on the Docker host (with --netns, the namespace dockerd runs in)',
    );
  }
  const notes = [
    ...via,
    `container ${c.name} (${c.id.slice(0, 12)}${c.image ? `, ${c.image}` : ''}) ${e.ifname} ${e.ipAddress ?? ''} on network ${e.network}${e.hostVeth ? `; host side ${e.hostVeth}${e.bridge ? ` on ${e.bridge}` : ''}` : ''}`.replace(
      '  ',
      ' ',
    ),
  ];
  if (eps.length > 1)
    notes.push(
      `container ${c.name} is on ${eps.length} networks (${eps.map((x) => x.network).join(', ')}); following ${e.network}`,
    );
  let published: ResolvedTarget['published'];
  if (m) {
    const port = Number(m[2]);
    const mapped = c.ports.filter((p) => p.publicPort !== undefined);
    const p = mapped.find((x) => x.privatePort === port) ?? mapped.find((x) => x.publicPort === port);
    if (!p) {
      throw usageError(
        `container ${c.name} publishes no port ${port}`,
        mapped.length
          ? `its published ports: ${mapped.map((x) => `${x.hostIp ?? '0.0.0.0'}:${x.publicPort}->${x.privatePort}/${x.type}`).join(' ')}`
          : 'it publishes no port (docker run -p)',
      );
    }
    const anyAddress = !p.hostIp || p.hostIp === '0.0.0.0' || p.hostIp === '::';
    published = {
      ...(anyAddress ? {} : { address: p.hostIp! }),
      port: p.publicPort!,
      containerPort: p.privatePort,
      proto: p.type,
    };
    notes.push(
      `published ${p.hostIp ?? '0.0.0.0'}:${p.publicPort} -> ${e.ipAddress ?? c.name}:${p.privatePort}/${p.type}`,
    );
  }
  return {
    type: 'container',
    ns,
    iface,
    ...(e.ipAddress ? { address: e.ipAddress } : {}),
    notes,
    container: { id: c.id, name: c.name },
    ...(published ? { published } : {}),
  };
}
