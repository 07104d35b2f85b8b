import { parseIp, prefixContains } from '../model/ip.js';
import { lowerChildren, type Interface, type Namespace, type Topology } from '../model/topology.js';
import type { Candidate, Path } from '../model/path.js';

/**
 * A silent or opaque guest: an address no collected interface holds and no
 * neighbour entry names. In this order (docs/targets.md):
 *  1. the bridge or routed device whose connected prefix holds it (longest
 *     prefix; the root namespace first on a tie), in any collected namespace;
 *  2. its ports (a routed device: itself) other than the uplink are the
 *     candidate backends, and so is every macvtap of it (a libvirt direct
 *     interface or a QEMU given a macvtap: the guest shares the subnet of the
 *     device under it, the uplink's too);
 *  3. positive evidence narrows them: a MAC that a guest source gives this
 *     address (a lease, a Proxmox/LXC config, hopdump's own ARP answer)
 *     joined to a port by a guest source naming the port (QEMU's tap, libvirt's
 *     target dev, Proxmox's tap<vmid>i<n>), by a visible veth peer with that
 *     MAC, or by the bridge's FDB;
 *  4. without it, negative evidence removes ports whose guest is known to
 *     hold other addresses of the prefix and not this one;
 *  5. one left: the target is that backend (or the guest NIC behind it when
 *     it is visible); several: the path ends at the bridge, candidates named.
 */
export interface PrefixResolution {
  ns: Namespace;
  iface: Interface;
  notes: string[];
  candidates: Candidate[];
}

interface Holder {
  ns: Namespace;
  device: Interface;
  prefix: string;
  length: number;
}

/** The device whose connected prefix (an address of it, else a link-scope route) holds `address`. */
export function prefixHolder(namespaces: Namespace[], address: string): Holder | undefined {
  let best: Holder | undefined;
  const consider = (h: Holder) => {
    if (!best || h.length > best.length || (h.length === best.length && h.ns.isRoot && !best.ns.isRoot)) best = h;
  };
  for (const ns of namespaces.filter((n) => n.collected)) {
    for (const iface of ns.interfaces) {
      if (iface.kind === 'loopback') continue;
      for (const a of iface.addresses) {
        if (a.scope === 'host' || (a.scope === 'link' && !address.toLowerCase().startsWith('fe80:'))) continue;
        const full = a.family === 'inet' ? 32 : 128;
        if (a.prefixlen >= full) continue;
        const prefix = `${a.local}/${a.prefixlen}`;
        const m = prefixContains(prefix, address);
        if (m.contains) consider({ ns, device: iface, prefix: networkOf(a.local, a.prefixlen), length: m.length });
      }
    }
  }
  if (best) return best;
  // No address holds it: a device routed to directly (Proxmox's routed setup: `ip route add ADDR dev tap100i0`).
  for (const ns of namespaces.filter((n) => n.collected)) {
    for (const r of ns.routes) {
      if (!r.dev || r.gateway || r.dst === 'default' || r.table !== 'main' || r.type !== 'unicast') continue;
      const device = ns.interfaces.find((i) => i.ifname === r.dev);
      const m = prefixContains(r.dst, address);
      if (device && m.contains) consider({ ns, device, prefix: r.dst, length: m.length });
    }
  }
  return best;
}

/** The prefix as `ip route` shows it (198.51.100.0/24, 2001:db8::/64). */
function networkOf(local: string, prefixlen: number): string {
  const ip = parseIp(local);
  if (!ip) return `${local}/${prefixlen}`;
  const bits = ip.family === 4 ? 32 : 128;
  const net = (ip.value >> BigInt(bits - prefixlen)) << BigInt(bits - prefixlen);
  if (ip.family === 4) return `${[24n, 16n, 8n, 0n].map((s) => String((net >> s) & 255n)).join('.')}/${prefixlen}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((net >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const text =
    best.at < 0
      ? groups.join(':')
      : `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
  return `${text}/${prefixlen}`;
}

interface PortEvidence {
  port: Interface;
  /** "port of vmbr0", or of a bridge behind it. */
  where: string;
  macs: Map<string, string>;
  why: string[];
  against: string[];
  /** The guest NIC behind it, when hopdump sees it (a veth peer in a collected namespace). */
  guest?: { ns: Namespace; iface: Interface };
  positiveOnly?: boolean;
}

export function resolveFromPrefix(
  topology: Topology,
  address: string,
  uplink?: Interface,
): PrefixResolution | undefined {
  const namespaces = topology.namespaces;
  const holder = prefixHolder(namespaces, address);
  if (!holder) return undefined;
  const { ns, device, prefix } = holder;
  const guests = (topology.guests ?? []).filter((g) => (g.netns ? g.netns === ns.id : ns.isRoot));
  const byId = new Map(namespaces.map((n) => [n.id, n]));
  const uplinkish = (i: Interface) =>
    i === uplink ||
    (ns.isRoot && i.ifname === uplink?.ifname) ||
    ['physical', 'bond', 'vlan', 'vxlan', 'geneve'].includes(i.kind);
  // Each candidate port, what it is a port of, and the bridge ports its guest's MAC may be learned on.
  interface Slot {
    port: Interface;
    where: string;
    fdbOn: Array<{ bridge: string; ifname: string }>;
    /** A tap on no bridge: a candidate only when a MAC joins the address to it. */
    positiveOnly?: boolean;
  }
  let slots: Slot[];
  let where: string;
  // A chain of bridges (Proxmox's fwbr<vmid>i<n> for a NIC with firewall=1, Neutron's qbr): a veth pair
  // from this bridge to another bridge in the same namespace leads to that bridge's ports.
  const expand = (
    bridge: string,
    text: string,
    fdbOn: Slot['fdbOn'],
    exclude: Interface | undefined,
    depth: number,
  ): Slot[] =>
    ns.interfaces
      .filter((i) => i.master === bridge && i !== exclude && !uplinkish(i))
      .flatMap((p) => {
        const peer =
          p.kind === 'veth' && p.peer?.netns === ns.id
            ? ns.interfaces.find((i) => i.ifindex === p.peer!.ifindex)
            : undefined;
        const on = [...fdbOn, { bridge, ifname: p.ifname }];
        if (peer?.master && peer.master !== bridge && depth < 4) {
          return expand(
            peer.master,
            `port of ${peer.master}, behind ${bridge} through ${p.ifname}⇄${peer.ifname}`,
            on,
            peer,
            depth + 1,
          );
        }
        return [{ port: p, where: text, fdbOn: on }];
      });
  if (device.kind === 'bridge') {
    where = `port of ${device.ifname}`;
    slots = expand(device.ifname, where, [], undefined, 0);
  } else if (device.ovsBridge) {
    where = `port of OVS bridge ${device.ovsBridge}`;
    slots = ns.interfaces
      .filter((i) => i.ovsBridge === device.ovsBridge && i !== device && i.kind !== 'openvswitch' && !uplinkish(i))
      .map((port) => ({ port, where, fdbOn: [] }));
  } else if (uplinkish(device)) {
    // The uplink's own subnet: the address is on the wire outside this host, or a guest on a macvtap of it.
    where = `the uplink's subnet ${prefix}`;
    slots = [];
  } else {
    where = `routed device of ${prefix}`;
    slots = [{ port: device, where, fdbOn: [] }];
  }
  // A tap on no bridge at all, whose guest a source names (its backend cut off from the bridge, as
  // bridge-port-missing then says): a candidate of the bridge a source says it belongs on (libvirt's
  // <source bridge>, a Proxmox/Incus config), or, when no source names a bridge, only if a MAC joins
  // the address to it (a plain QEMU's -netdev tap,script=no names none).
  if (device.kind === 'bridge') {
    for (const tap of ns.interfaces.filter(
      (i) => i.kind === 'tap' && !i.master && !i.ovsBridge && !slots.some((x) => x.port === i),
    )) {
      const meant = [
        ...guests.filter((g) => g.ifname === tap.ifname && g.bridge).map((g) => ({ bridge: g.bridge!, why: g.why })),
        ...(ns.isRoot ? (topology.domains ?? []) : []).flatMap((d) =>
          d.interfaces
            .filter((x) => x.targetDev === tap.ifname && x.sourceBridge)
            .map((x) => ({
              bridge: x.sourceBridge!,
              why: `libvirt domain ${d.name} <source bridge='${x.sourceBridge}'/>`,
            })),
        ),
      ];
      const here = meant.find((m) => m.bridge === device.ifname);
      if (here) slots.push({ port: tap, where: `on no bridge, meant for ${device.ifname} (${here.why})`, fdbOn: [] });
      else if (meant.length === 0 && guests.some((g) => g.ifname === tap.ifname))
        slots.push({ port: tap, where: 'on no bridge', fdbOn: [], positiveOnly: true });
    }
  }
  // QEMU's macvtaps of the device (in its namespace, where QEMU opens them): guests on its subnet.
  const macvtaps = lowerChildren(topology, ns.id, device.ifindex).filter(
    (c) => c.ns === ns && c.iface.kind === 'macvtap',
  );
  slots.push(...macvtaps.map((c) => ({ port: c.iface, where: `macvtap of ${device.ifname}`, fdbOn: [] })));
  const onUplink = uplinkish(device) && device.kind !== 'bridge' && !device.ovsBridge;
  const ports = slots.map((x) => x.port);
  const evidence: PortEvidence[] = slots.map(({ port, where: slotWhere, fdbOn, positiveOnly }) => {
    const macs = new Map<string, string>();
    const why: string[] = [];
    const against: string[] = [];
    let guest: PortEvidence['guest'];
    for (const g of guests.filter((x) => x.ifname === port.ifname)) {
      if (g.mac) macs.set(g.mac, g.why);
      why.push(g.why);
    }
    for (const d of ns.isRoot ? (topology.domains ?? []) : []) {
      for (const nic of d.interfaces.filter((x) => x.targetDev === port.ifname && x.mac)) {
        macs.set(nic.mac!.toLowerCase(), `libvirt domain ${d.name} NIC ${nic.mac}`);
        why.push(`libvirt domain ${d.name} NIC ${nic.mac!.toLowerCase()} is ${port.ifname}`);
      }
    }
    const peerNs = port.peer?.netns ? byId.get(port.peer.netns) : undefined;
    const peer =
      peerNs?.collected && peerNs !== ns ? peerNs.interfaces.find((i) => i.ifindex === port.peer!.ifindex) : undefined;
    if (peerNs && peer) {
      guest = { ns: peerNs, iface: peer };
      if (peer.address) macs.set(peer.address.toLowerCase(), `its veth peer ${peerNs.id}/${peer.ifname}`);
      const same = peer.addresses.filter((a) => prefixContains(prefix, a.local).contains).map((a) => a.local);
      if (same.length > 0)
        against.push(`its guest NIC ${peerNs.id}/${peer.ifname} holds ${same.join(', ')}, not ${address}`);
      else
        why.push(
          `its veth peer ${peerNs.id}/${peer.ifname} (${peer.address ?? 'no MAC'}) holds no address in ${prefix}`,
        );
    }
    for (const on of fdbOn) {
      const fdb = ns.bridges.find((b) => b.ifname === on.bridge)?.fdb ?? [];
      for (const e of fdb.filter(
        (x) => x.ifname === on.ifname && x.state !== 'permanent' && !x.flags.includes('self'),
      )) {
        macs.set(e.mac.toLowerCase(), `${on.bridge} learned ${e.mac.toLowerCase()} on ${on.ifname}`);
      }
    }
    // A guest source that gives this port's guest other addresses, and not this one.
    for (const [mac] of macs) {
      const known = (topology.guests ?? []).filter((g) => g.mac === mac && g.addresses.length > 0);
      const other = known.filter(
        (g) => !g.addresses.includes(address) && g.addresses.some((a) => prefixContains(prefix, a).contains),
      );
      if (other.length > 0 && !known.some((g) => g.addresses.includes(address)))
        against.push(...other.map((g) => g.why));
    }
    return {
      port,
      where: slotWhere,
      macs,
      why,
      against,
      ...(positiveOnly ? { positiveOnly } : {}),
      ...(guest ? { guest } : {}),
    };
  });

  // MACs that something says this address has.
  const addressMacs = new Map<string, string>();
  for (const g of topology.guests ?? []) {
    if (g.mac && g.addresses.includes(address)) addressMacs.set(g.mac, g.why);
  }
  for (const n of namespaces) {
    for (const x of n.neighbours)
      if (x.dst === address && x.lladdr)
        addressMacs.set(x.lladdr.toLowerCase(), `neighbour entry in ${n.id}: ${address} lladdr ${x.lladdr}`);
  }
  const positive = evidence.filter((e) => [...addressMacs.keys()].some((m) => e.macs.has(m)));
  let chosen: PortEvidence[];
  let how: string;
  // A guest source that gave the MAC is named once.
  const text = (e: PortEvidence, extra: string[] = []) =>
    [e.where, ...extra, ...e.why.filter((w) => !extra.some((x) => x.includes(w)))].join('; ');
  let candidates: Candidate[];
  if (positive.length > 0) {
    chosen = positive;
    how = 'narrowed by MAC';
    candidates = positive.map((e) => {
      const mac = [...addressMacs.keys()].find((m) => e.macs.has(m))!;
      return {
        netns: ns.id,
        ifname: e.port.ifname,
        why: text(e, [`${addressMacs.get(mac)}`, `MAC ${mac}: ${e.macs.get(mac)}`]),
      };
    });
  } else if (onUplink) {
    // On the uplink's subnet only a MAC joins the address to a macvtap: it may as well be a machine on the wire.
    chosen = [];
    how = 'no MAC joins the address to one';
    candidates = evidence.map((e) => ({
      netns: ns.id,
      ifname: e.port.ifname,
      why: text(e, e.why.length === 0 ? ['no other evidence'] : []),
    }));
  } else {
    const left = evidence.filter((e) => e.against.length === 0 && !e.positiveOnly);
    // Every port's guest is known to hold other addresses: none of them is chosen.
    chosen = left;
    how =
      evidence.length === 1
        ? `the only ${where.replace(/ of .*/, '')}`
        : left.length > 0 && left.length < evidence.length
          ? 'by elimination'
          : 'nothing tells them apart';
    candidates = (left.length > 0 ? left : evidence).map((e) => ({
      netns: ns.id,
      ifname: e.port.ifname,
      why: text(
        e,
        e.why.length === 0 && e.against.length === 0
          ? ['no other evidence']
          : e.against.length
            ? [`(${e.against.join('; ')})`]
            : [],
      ),
    }));
  }
  const head = `${address} is held by no interface here and no neighbour entry names it; ${ns.id}/${device.ifname} holds its prefix ${prefix}`;
  // The host's LAN address on the bridge: the address may also be a machine beyond the uplink.
  const lan =
    device.kind === 'bridge' && uplink && ns.isRoot && uplink.master === device.ifname
      ? ` (or a machine beyond the uplink ${uplink.ifname})`
      : '';
  const notes: string[] = [];
  if (chosen.length === 1) {
    const e = chosen[0]!;
    notes.push(`${head}; its backend is ${e.port.ifname} (${how}): ${candidates[0]!.why}`);
    if (e.guest && e.guest.ns !== ns) return { ns: e.guest.ns, iface: e.guest.iface, notes, candidates };
    return { ns, iface: e.port, notes, candidates };
  }
  if (ports.length === 0 && device.kind !== 'bridge' && !device.ovsBridge) {
    notes.push(`${head}, the uplink's own subnet: ${address} is outside this host, beyond ${device.ifname}`);
  } else if (onUplink) {
    notes.push(
      `${head}, the uplink's own subnet: ${address} is beyond ${device.ifname}, or a guest on its macvtap ${ports.map((p) => p.ifname).join(', ')} (${how}): the path ends at ${device.ifname}`,
    );
  } else if (ports.length === 0) {
    notes.push(`${head}; ${device.ifname} has no port besides the uplink: the path ends at ${device.ifname}`);
  } else if (chosen.length === 0) {
    notes.push(
      `${head}; the guest behind each of its ports is known to hold other addresses, not ${address}${lan}: the path ends at ${device.ifname}`,
    );
  } else {
    notes.push(
      `${head}; the guest may be behind any of ${chosen.map((e) => e.port.ifname).join(', ')} (${how})${lan}: the path ends at ${device.ifname}`,
    );
  }
  return { ns, iface: device, notes, candidates };
}

/**
 * The target narrowed to one of its candidate backends (what diagnose learns
 * from its captures or its ARP probe): that backend, or the guest NIC behind
 * it when hopdump sees it. The other candidates stay listed.
 */
export function pickCandidate(
  topology: Topology,
  resolved: { ns: Namespace; iface: Interface; notes: string[]; candidates?: Candidate[] },
  backend: { netns: string; ifname: string; why: string },
): { ns: Namespace; iface: Interface; notes: string[] } {
  const c = resolved.candidates?.find((x) => x.netns === backend.netns && x.ifname === backend.ifname);
  const ns = topology.namespaces.find((n) => n.id === backend.netns);
  const port = ns?.interfaces.find((i) => i.ifname === backend.ifname);
  if (!c || !ns || !port) return resolved;
  const peerNs = port.peer?.netns ? topology.namespaces.find((n) => n.id === port.peer!.netns) : undefined;
  const peer =
    peerNs?.collected && peerNs !== ns ? peerNs.interfaces.find((i) => i.ifindex === port.peer!.ifindex) : undefined;
  const notes = [
    ...resolved.notes.map((n) => n.replace(/: the path ends at \S+$/, '')),
    `followed candidate ${ns.id}/${port.ifname}: ${backend.why}`,
  ];
  return peerNs && peer ? { ns: peerNs, iface: peer, notes } : { ns, iface: port, notes };
}

/** A silent guest's path that ends short of every candidate backend (at the bridge or routed device). */
export function undecided(path: Path): boolean {
  const c = path.candidates ?? [];
  return c.length > 0 && !path.hops.some((h) => c.some((x) => x.netns === h.netns && x.ifname === h.ifname));
}
