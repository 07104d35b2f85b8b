import { printableDeep } from '../util/printable.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';

/**
 * `hopdump discover` as a tree per namespace: bridges with their ports, each
 * port followed to its veth peer's namespace and address. Fits 100 columns.
 */
export function renderTopology(topology: Topology): string {
  // Names and strings from guests, containers and capture files: no control character reaches the terminal.
  return renderTopologyUnsafe(printableDeep(topology));
}

function renderTopologyUnsafe(topology: Topology): string {
  const lines: string[] = [
    `${'  interface'.padEnd(20)} ${'kind'.padEnd(8)} ${'state'.padEnd(10)} ${'mtu'.padEnd(5)} ${'mac'.padEnd(17)} addresses`,
  ];
  const byId = new Map(topology.namespaces.map((n) => [n.id, n]));
  const owners = namespaceOwners(topology);
  for (const ns of topology.namespaces) {
    lines.push(nsHeader(ns, owners.get(ns.id)));
    if (!ns.collected) {
      lines.push('  (not readable)');
      lines.push('');
      continue;
    }
    const bridged = new Set(ns.interfaces.filter((i) => i.master).map((i) => i.ifname));
    for (const iface of ns.interfaces) {
      if (bridged.has(iface.ifname) && ns.interfaces.some((b) => b.ifname === iface.master)) continue;
      lines.push(ifaceLine('  ', iface, byId));
      const bridge = ns.bridges.find((b) => b.ifname === iface.ifname);
      if (bridge) {
        const ports = ns.interfaces.filter((i) => i.master === iface.ifname);
        ports.forEach((port, idx) => {
          const last = idx === ports.length - 1;
          lines.push(ifaceLine(last ? '  └─ ' : '  ├─ ', port, byId));
        });
        const learned = bridge.fdb.filter((e) => !e.flags.includes('self') && e.state !== 'permanent');
        if (learned.length > 0) {
          const shown = learned.slice(0, 6).map((e) => `${e.mac}@${e.ifname}`);
          if (learned.length > 6) shown.push(`(+${learned.length - 6} more)`);
          lines.push(...wrap('       fdb: ', shown.join(' '), 100));
        }
      }
    }
    const routes = ns.routes.filter((r) => r.table === 'main' && r.family === 'inet');
    if (routes.length > 0) {
      const text = routes.map(
        (r) =>
          `${r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`,
      );
      lines.push(...wrap('  routes: ', text.join('; '), 100));
    }
    const neigh = ns.neighbours.filter((n) => n.state.includes('PERMANENT'));
    if (neigh.length > 0) {
      lines.push(
        ...wrap(
          '  static neighbours: ',
          neigh.map((n) => `${n.dst} lladdr ${n.lladdr ?? '-'} dev ${n.dev}`).join('; '),
          100,
        ),
      );
    }
    lines.push(...extras(ns));
    lines.push('');
  }
  lines.push(...domainLines(topology), ...dockerLines(topology), ...podmanLines(topology), ...guestLines(topology));
  if (topology.warnings.length > 0) {
    for (const w of topology.warnings) lines.push(`warning: ${w}`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** "container ct1" for a container's namespace. */
function namespaceOwners(topology: Topology): Map<string, string> {
  const owners = new Map<string, string>();
  for (const c of [...(topology.docker?.containers ?? []), ...(topology.podman?.containers ?? [])]) {
    for (const e of c.endpoints) if (e.netns) owners.set(e.netns, `container ${c.name}`);
  }
  return owners;
}

/** libvirt domains, one line each with their NICs. */
function domainLines(topology: Topology): string[] {
  if (!topology.domains?.length) return [];
  const out = ['libvirt domains:'];
  for (const d of topology.domains) {
    const nics = d.interfaces.map(
      (i) =>
        `${i.type} ${i.targetDev ?? '-'} ${i.mac ?? '-'}${i.sourceBridge ? ` on ${i.sourceBridge}` : i.sourceNetwork ? ` network ${i.sourceNetwork}` : ''}` +
        (i.type === 'direct' && i.sourceDev
          ? ` ≈ macvtap on ${i.sourceDev}${i.sourceMode ? ` mode ${i.sourceMode}` : ''}`
          : ''),
    );
    out.push(...wrap(`  ${d.name} ${d.state} ${d.uuid}: `, nics.join('; ') || 'no NIC', 100));
  }
  out.push('');
  return out;
}

/** Guest NICs as their platforms' files and processes say (docs/targets.md), one line each. */
function guestLines(topology: Topology): string[] {
  if (!topology.guests?.length) return [];
  const out = ['guests (QEMU processes, libvirt files, Proxmox VE, LXC and Incus/LXD configs):'];
  for (const g of topology.guests) {
    const text = [
      g.source,
      g.name ?? '-',
      g.mac ?? '-',
      g.ifname ? `${g.netns ? `${g.netns}/` : ''}${g.ifname}` : '-',
      g.bridge ? `on ${g.bridge}` : '',
      g.addresses.join(' '),
      g.pid !== undefined ? `pid ${g.pid}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    out.push(...wrap('  ', text, 100));
  }
  out.push('');
  return out;
}

/** Podman's networks (netavark: bridge and subnets), then its containers as Docker's are shown. */
function podmanLines(topology: Topology): string[] {
  const p = topology.podman;
  if (!p) return [];
  const nets = p.networks.map(
    (n) =>
      `${n.name} ${n.driver}${n.bridge ? ` ${n.bridge}` : ''}${n.parent ? ` on ${n.parent}` : ''} ${n.subnets.map((s) => s.subnet).join(' ') || '-'}`,
  );
  return [
    ...wrap('podman networks: ', nets.join('; '), 100),
    '',
    ...containerLines(p, `podman containers (${p.endpoint}):`),
  ];
}

/** Docker containers: state, each network endpoint with its host veth and bridge, published ports. */
function dockerLines(topology: Topology): string[] {
  const d = topology.docker;
  if (!d) return [];
  return containerLines(d, `docker containers (${d.endpoint}${d.version ? `, Engine ${d.version}` : ''}):`);
}

function containerLines(d: NonNullable<Topology['docker']>, title: string): string[] {
  const out = wrap('', title, 100);
  if (d.containers.length === 0) out.push('  none');
  for (const c of d.containers) {
    const eps = c.endpoints.map(
      (e) =>
        `${e.network} ${e.ipAddress ? `${e.ipAddress}/${e.prefixLen}` : '-'} ${e.macAddress ?? '-'}` +
        (e.netns ? ` = ${e.netns}/${e.ifname}` : '') +
        (e.hostVeth ? ` ⇄ ${e.hostVeth}${e.bridge ? ` on ${e.bridge}` : ''}` : '') +
        (e.lowerDevice ? ` ≈ ${e.lowerDevice}${e.mode ? ` (mode ${e.mode})` : ''}` : ''),
    );
    const ports = c.ports.map((p) =>
      p.publicPort
        ? `${p.hostIp ?? '0.0.0.0'}:${p.publicPort}->${p.privatePort}/${p.type}`
        : `${p.privatePort}/${p.type}`,
    );
    const mode = c.networkMode.replace(/^container:([0-9a-f]{12})[0-9a-f]+$/, 'container:$1');
    out.push(
      ...wrap(
        `  ${c.name} ${c.id.slice(0, 12)} `,
        `${c.state}${c.pid ? ` pid ${c.pid}` : ''}${c.image ? ` image ${c.image}` : ''} network ${mode}`,
        100,
      ),
    );
    if (eps.length) out.push(...wrap('    endpoints: ', eps.join('; '), 100));
    if (ports.length) out.push(...wrap('    ports: ', ports.join(' '), 100));
  }
  out.push('');
  return out;
}

/** Listeners, tc, queues with drops and firewall rules, one short line each. */
function extras(ns: Namespace): string[] {
  const out: string[] = [];
  if (ns.listeners?.length) {
    const l = ns.listeners.map(
      (x) =>
        `${x.family === 'inet6' ? `[${x.address}]` : x.address}:${x.port}${x.acceptQueue ? ` (accept queue ${x.acceptQueue})` : ''}`,
    );
    out.push(...wrap('  listening tcp: ', l.join(' '), 100));
  }
  for (const f of ns.tcFilters ?? []) {
    out.push(
      `  tc filter: dev ${f.dev} ${f.direction} ${f.kind}${f.protocol ? ` protocol ${f.protocol}` : ''} → ${f.actions.join(', ') || 'no action'}`,
    );
  }
  for (const q of ns.qdiscs ?? []) {
    if (q.kind === 'noqueue' || q.kind === 'ingress' || q.kind === 'clsact') continue;
    if (q.kind === 'fq_codel' && q.drops === 0) continue;
    out.push(`  qdisc: dev ${q.dev} ${q.kind} ${q.handle}${q.drops ? `  dropped ${q.drops}` : ''}`);
  }
  for (const br of ns.ovs?.bridges ?? []) {
    const ports = br.ports.map((p) => {
      const i = p.interfaces[0];
      const extra = [
        i && i.type !== 'system' ? i.type : '',
        i?.options['peer'] ? `peer ${i.options['peer']}` : '',
        p.tag !== undefined ? `tag ${p.tag}` : '',
        i && i.ofport < 0 ? 'NOT ATTACHED' : '',
        p.trunks.length ? `trunks ${p.trunks.join(',')}` : '',
        i && i.ofport < 0 ? 'NOT ATTACHED' : '',
        i?.link_state === 'down' ? 'link down' : '',
        i?.admin_state === 'down' ? 'admin down' : '',
        i?.external_ids['iface-id'] ? `port ${i.external_ids['iface-id'].slice(0, 8)}` : '',
      ].filter(Boolean);
      return `${p.name}#${i?.ofport ?? '?'}${extra.length ? `(${extra.join(', ')})` : ''}`;
    });
    out.push(
      ...wrap(
        `  ovs ${br.name} [${br.datapath_type}${br.fail_mode ? `, fail_mode ${br.fail_mode}` : ''}]: `,
        ports.join(' '),
        100,
      ),
    );
    const fdb = br.fdb
      .filter((e) => e.ofport !== 'LOCAL')
      .map((e) => `${e.mac}@${e.port}${e.vlan ? `/vlan${e.vlan}` : ''}${e.age === 'static' ? '(static)' : ''}`);
    if (fdb.length) out.push(...wrap(`    fdb: `, fdb.join(' '), 100));
    for (const m of br.mirrors) {
      const sel = m.select_all
        ? 'all'
        : `src ${m.select_src_port.join(',') || '-'} dst ${m.select_dst_port.join(',') || '-'}`;
      out.push(
        `    mirror ${m.name}: ${sel} → ${m.output_port ?? (m.output_vlan !== undefined ? `vlan ${m.output_vlan}` : '?')}`,
      );
    }
  }
  for (const d of ns.ovs?.stats?.datapaths ?? []) {
    out.push(`  ovs datapath ${d.name}: lookups hit ${d.hit} missed ${d.missed} lost ${d.lost}`);
  }
  const fw = ns.firewall;
  if (fw) {
    for (const c of fw.iptables) {
      const interesting = c.rules.filter((r) => r.target === 'DROP' || r.target === 'REJECT');
      if (c.policy === 'DROP' || interesting.length > 0) {
        out.push(
          `  ${c.family === 'ipv4' ? 'iptables' : 'ip6tables'} ${c.table}/${c.chain}: policy ${c.policy ?? '-'}, ${c.rules.length} rules, ${interesting.length} DROP/REJECT`,
        );
      }
    }
    for (const c of fw.nft) {
      out.push(
        `  nft ${c.family} ${c.table} ${c.chain}${c.hook ? ` (hook ${c.hook}${c.device ? ` device ${c.device}` : ''}${c.policy ? `, policy ${c.policy}` : ''})` : ''}: ${c.rules.length} rules`,
      );
    }
    for (const e of fw.errors) out.push(`  firewall not read: ${e}`);
  }
  return out;
}

function nsHeader(ns: Namespace, owner?: string): string {
  const s = ns.sysctls;
  const parts = [`netns ${ns.id}${ns.isRoot ? ' (root)' : ''}${owner ? ` (${owner})` : ''}`];
  if (ns.enteredVia) parts.push(`[${ns.enteredVia}]`);
  if (s) {
    parts.push(`ip_forward=${s.ip_forward ?? '?'}`);
    parts.push(`rp_filter=${s.rp_filter['all'] ?? '?'}/${s.rp_filter['default'] ?? '?'}`);
    if (s.icmp_echo_ignore_all) parts.push('icmp_echo_ignore_all=1');
    if (s.bridge_nf_call_iptables !== undefined && ns.bridges.length > 0) {
      parts.push(`bridge-nf-call-iptables=${s.bridge_nf_call_iptables}`);
    }
  }
  return parts.join('  ');
}

function state(iface: Interface): string {
  if (!iface.adminUp) return 'DOWN';
  if (!iface.carrier) return 'NO-CARRIER';
  return iface.operstate === 'UNKNOWN' ? 'up' : iface.operstate.toLowerCase();
}

function ifaceLine(prefix: string, iface: Interface, byId: Map<string, Namespace>): string {
  const name = `${prefix}${iface.ifname}`.padEnd(20);
  const addrs = iface.addresses.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`);
  const extra: string[] = [];
  if (iface.bridgePort && iface.bridgePort.state !== 'forwarding') extra.push(iface.bridgePort.state.toUpperCase());
  const children = [...byId.values()].flatMap((n) =>
    n.interfaces
      .filter(
        (i) =>
          i.lower && i.lower.ifindex === iface.ifindex && byId.get(i.lower.netns ?? '')?.interfaces.includes(iface),
      )
      .map((i) => `${n.id}/${i.ifname}`),
  );
  // Bridge and OVS ports are promiscuous by design, and so is a macvlan's lower device; anything else is worth a look.
  if (iface.promisc && !iface.master && !iface.ovsBridge && children.length === 0) extra.push('PROMISC');
  if (iface.ovsBridge && iface.kind !== 'tap') extra.push(`ovs ${iface.ovsBridge}`);
  if (iface.peer) {
    const peerNs = iface.peer.netns ? byId.get(iface.peer.netns) : undefined;
    const peerIf = peerNs?.interfaces.find((i) => i.ifindex === iface.peer!.ifindex);
    const peerAddrs =
      peerIf?.addresses.filter((a) => a.scope !== 'link' && a.family === 'inet').map((a) => a.local) ?? [];
    const where = iface.peer.netns === null ? `nsid ${iface.peer.link_netnsid ?? '?'}` : iface.peer.netns;
    extra.push(
      `⇄ ${where}/${iface.peer.ifname ?? `if${iface.peer.ifindex}`}${peerAddrs.length ? ` ${peerAddrs.join(',')}` : ''}`,
    );
  }
  if (iface.lower) {
    const where = iface.lower.netns === null ? `nsid ${iface.lower.link_netnsid ?? '?'}` : iface.lower.netns;
    extra.push(
      `${iface.mode ? `mode ${iface.mode} ` : ''}≈ lower ${where}/${iface.lower.ifname ?? `if${iface.lower.ifindex}`}`,
    );
  }
  if (children.length)
    extra.push(
      `≈ ${children.join(',').length <= 40 ? children.join(',') : `lower of ${children.length} macvlan/macvtap/ipvlan`}`,
    );
  // Keep within 100 columns: addresses that do not fit the column (dual stack) go on lines of
  // their own under it, and what follows the addresses on a line of its own.
  const head = [
    name,
    iface.kind.padEnd(8),
    state(iface).padEnd(10),
    String(iface.mtu).padEnd(5),
    (iface.address ?? '').padEnd(17),
  ].join(' ');
  const addrLines: string[] = [];
  for (const a of addrs) {
    const last = addrLines.length - 1;
    if (last >= 0 && head.length + 1 + addrLines[last]!.length + 1 + a.length <= 100) addrLines[last] += `,${a}`;
    else addrLines.push(a);
  }
  if (addrLines.length === 0) addrLines.push('-');
  const more = addrLines.slice(1).map((l) => `${' '.repeat(head.length + 1)}${l}`);
  const line = [`${head} ${addrLines[0]}`, ...extra].join('  ').trimEnd();
  if (line.length <= 100 || extra.length === 0) return [line, ...more].join('\n');
  return [`${head} ${addrLines[0]}`.trimEnd(), ...more, `${' '.repeat(22)}${extra.join('  ')}`].join('\n');
}

function wrap(prefix: string, text: string, width: number): string[] {
  const out: string[] = [];
  let line = prefix;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > width && line.trim() !== prefix.trim()) {
      out.push(line.trimEnd());
      line = ' '.repeat(prefix.length);
    }
    line += `${word} `;
  }
  out.push(line.trimEnd());
  return out;
}
