import { z } from 'zod';
import { DockerStateSchema } from './docker.js';
import { GuestNicSchema } from './guests.js';
import { DomainSchema } from './libvirt.js';

/**
 * The typed topology model: one host's network state, as seen from its root
 * namespace (or from the namespace that stands in for it in the lab). Field
 * names follow iproute2's JSON (`ifname`, `operstate`, `master`,
 * `link_netnsid`, ...) so that operators recognise them.
 */

export const AddressSchema = z.object({
  family: z.enum(['inet', 'inet6']),
  local: z.string(),
  prefixlen: z.number().int(),
  scope: z.string().optional(),
  broadcast: z.string().optional(),
});
export type Address = z.infer<typeof AddressSchema>;

export const InterfaceKindSchema = z.enum([
  'loopback',
  'physical',
  'veth',
  'tap',
  'tun',
  'bridge',
  'macvlan',
  'macvtap',
  'ipvlan',
  'vxlan',
  'geneve',
  'vlan',
  'bond',
  'dummy',
  'ifb',
  'openvswitch',
  'other',
]);
export type InterfaceKind = z.infer<typeof InterfaceKindSchema>;

export const CountersSchema = z.object({
  rx_packets: z.number(),
  rx_bytes: z.number(),
  rx_errors: z.number(),
  rx_dropped: z.number(),
  tx_packets: z.number(),
  tx_bytes: z.number(),
  tx_errors: z.number(),
  tx_dropped: z.number(),
});
export type Counters = z.infer<typeof CountersSchema>;

/** Where a veth's other end lives: the id of its namespace, null when it was not found. */
export const PeerSchema = z.object({
  netns: z.string().nullable(),
  link_netnsid: z.number().int().optional(),
  ifindex: z.number().int(),
  ifname: z.string().optional(),
});
export type Peer = z.infer<typeof PeerSchema>;

/** Kernel bridge port states (BR_STATE_*), as `bridge link` names them. */
export const BridgePortStateSchema = z.enum(['disabled', 'listening', 'learning', 'forwarding', 'blocking', 'unknown']);
export type BridgePortState = z.infer<typeof BridgePortStateSchema>;

export const InterfaceSchema = z.object({
  ifindex: z.number().int(),
  ifname: z.string(),
  kind: InterfaceKindSchema,
  /** The driver-level kind as `ip -d link` reports it (info_kind), when any. */
  info_kind: z.string().optional(),
  address: z.string().optional(),
  mtu: z.number().int(),
  /** IFF_UP: the administrative state (`ip link set X up/down`). */
  adminUp: z.boolean(),
  operstate: z.string(),
  /** IFF_LOWER_UP / /sys/class/net/X/carrier. */
  carrier: z.boolean(),
  flags: z.array(z.string()),
  /** dev->flags as /sys/class/net/X/flags shows it (hex); IFF_PROMISC is 0x100. */
  sysfsFlags: z.number().int().optional(),
  promisc: z.boolean(),
  /** The permanent (hardware) MAC, when the device's MAC was changed (`ip link` permaddr). */
  permaddr: z.string().optional(),
  promiscuity: z.number().int().optional(),
  master: z.string().optional(),
  /** The Open vSwitch bridge this device is a port of (OVS ports have no Linux master). */
  ovsBridge: z.string().optional(),
  peer: PeerSchema.optional(),
  /**
   * For a macvlan, macvtap or ipvlan: its lower (parent) device, found like a
   * veth peer (the child may be in another namespace than its parent).
   */
  lower: PeerSchema.optional(),
  /** macvlan/macvtap mode (bridge, vepa, private, passthru, source) or ipvlan mode (l2, l3, l3s). */
  mode: z.string().optional(),
  /** For a bridge port: its STP state and its path cost. */
  bridgePort: z
    .object({ state: BridgePortStateSchema, cost: z.number().optional(), priority: z.number().optional() })
    .optional(),
  addresses: z.array(AddressSchema),
  stats: CountersSchema.optional(),
  txqlen: z.number().int().optional(),
  parentbus: z.string().optional(),
});
export type Interface = z.infer<typeof InterfaceSchema>;

export const FdbEntrySchema = z.object({
  mac: z.string(),
  ifname: z.string(),
  vlan: z.number().int().optional(),
  state: z.string().optional(),
  flags: z.array(z.string()),
});
export type FdbEntry = z.infer<typeof FdbEntrySchema>;

export const BridgeSchema = z.object({
  ifname: z.string(),
  /** stp_state: 0 off, 1 kernel STP, 2 user-space STP. */
  stp: z.boolean(),
  stp_state: z.number().int(),
  /** Forward delay in seconds. */
  forward_delay: z.number(),
  vlan_filtering: z.boolean(),
  ports: z.array(z.object({ ifname: z.string(), state: BridgePortStateSchema })),
  fdb: z.array(FdbEntrySchema),
});
export type Bridge = z.infer<typeof BridgeSchema>;

export const RouteSchema = z.object({
  family: z.enum(['inet', 'inet6']),
  /** "default" or a prefix "198.51.100.0/24" (host routes carry /32 or /128). */
  dst: z.string(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  table: z.string(),
  type: z.string(),
  protocol: z.string().optional(),
  scope: z.string().optional(),
  prefsrc: z.string().optional(),
  metric: z.number().optional(),
});
export type Route = z.infer<typeof RouteSchema>;

export const NeighbourSchema = z.object({
  dst: z.string(),
  dev: z.string(),
  lladdr: z.string().optional(),
  state: z.array(z.string()),
});
export type Neighbour = z.infer<typeof NeighbourSchema>;

/** The sysctls that decide whether and how a namespace forwards. */
export const SysctlsSchema = z.object({
  ip_forward: z.number().int().optional(),
  ipv6_forwarding: z.number().int().optional(),
  rp_filter: z.record(z.string(), z.number().int()),
  arp_ignore: z.record(z.string(), z.number().int()),
  arp_filter: z.record(z.string(), z.number().int()),
  /** net.bridge.bridge-nf-call-*; absent when br_netfilter is not loaded. */
  bridge_nf_call_iptables: z.number().int().optional(),
  bridge_nf_call_ip6tables: z.number().int().optional(),
  bridge_nf_call_arptables: z.number().int().optional(),
  icmp_echo_ignore_all: z.number().int().optional(),
});
export type Sysctls = z.infer<typeof SysctlsSchema>;

/** A listening TCP socket, from /proc/net/tcp{,6} (LISTEN, st 0A). */
export const ListenerSchema = z.object({
  family: z.enum(['inet', 'inet6']),
  address: z.string(),
  port: z.number().int(),
  /** For a listener /proc/net/tcp shows sk_ack_backlog: connections waiting for accept(). */
  acceptQueue: z.number().int(),
});
export type Listener = z.infer<typeof ListenerSchema>;

export const QdiscSchema = z.object({
  dev: z.string(),
  kind: z.string(),
  handle: z.string(),
  parent: z.string().optional(),
  root: z.boolean(),
  packets: z.number(),
  drops: z.number(),
  overlimits: z.number(),
  backlog: z.number(),
  qlen: z.number(),
  options: z.record(z.string(), z.unknown()),
});
export type Qdisc = z.infer<typeof QdiscSchema>;

export const TcFilterSchema = z.object({
  dev: z.string(),
  /** ingress or egress (clsact), or the parent handle for classful qdiscs. */
  direction: z.string(),
  kind: z.string(),
  protocol: z.string().optional(),
  pref: z.number().optional(),
  /** tc's own words for the filter's actions, e.g. "mirred egress redirect dev vnet1". */
  actions: z.array(z.string()),
  raw: z.unknown(),
});
export type TcFilter = z.infer<typeof TcFilterSchema>;

export const IptablesRuleSchema = z.object({
  /** The rule as iptables-save prints it, without the counters: "-A FORWARD -m physdev ... -j DROP". */
  spec: z.string(),
  target: z.string().optional(),
  packets: z.number(),
  bytes: z.number(),
});
export const IptablesChainSchema = z.object({
  family: z.enum(['ipv4', 'ipv6']),
  table: z.string(),
  chain: z.string(),
  /** ACCEPT/DROP for built-in chains, null for user chains. */
  policy: z.string().nullable(),
  packets: z.number(),
  bytes: z.number(),
  rules: z.array(IptablesRuleSchema),
});
export type IptablesChain = z.infer<typeof IptablesChainSchema>;

export const NftChainSchema = z.object({
  family: z.string(),
  table: z.string(),
  chain: z.string(),
  type: z.string().optional(),
  hook: z.string().optional(),
  device: z.string().optional(),
  prio: z.number().optional(),
  policy: z.string().optional(),
  /** Each rule's expressions as nft -j gives them. */
  rules: z.array(z.object({ handle: z.number(), expr: z.array(z.unknown()) })),
});
export type NftChain = z.infer<typeof NftChainSchema>;

export const FirewallSchema = z.object({
  /** iptables/ip6tables (legacy or nf_tables backend) from `iptables-save -c`. */
  iptables: z.array(IptablesChainSchema),
  /** Native nftables tables (`nft -j list ruleset`) not managed by iptables-nft. */
  nft: z.array(NftChainSchema),
  /** Anything that could not be read, e.g. a missing program. */
  errors: z.array(z.string()),
});
export type Firewall = z.infer<typeof FirewallSchema>;

/** Open vSwitch as OVSDB describes it (column names kept: ofport, link_state, external_ids...). */
export const OvsInterfaceSchema = z.object({
  name: z.string(),
  /** "" in OVSDB means a system (kernel or netdev) interface. */
  type: z.string(),
  /** -1 when OVS could not attach it. */
  ofport: z.number().int(),
  link_state: z.string().optional(),
  admin_state: z.string().optional(),
  error: z.string().optional(),
  mac_in_use: z.string().optional(),
  /** options:peer for patch ports, remote_ip for tunnels... */
  options: z.record(z.string(), z.string()),
  /** iface-id, attached-mac, iface-status, vm-uuid as Nova/Neutron set them. */
  external_ids: z.record(z.string(), z.string()),
});
export type OvsInterface = z.infer<typeof OvsInterfaceSchema>;
/** One OpenFlow flow as `ovs-ofctl dump-flows` prints it (it has no JSON form). */
export const OvsFlowSchema = z.object({
  table: z.number().int(),
  priority: z.number().int(),
  /** The match, e.g. "ip,nw_dst=192.0.2.11". */
  match: z.string(),
  actions: z.string(),
  n_packets: z.number(),
  n_bytes: z.number(),
});
export type OvsFlow = z.infer<typeof OvsFlowSchema>;

export const OvsPortSchema = z.object({
  name: z.string(),
  /** Access VLAN (Neutron's local VLAN on br-int). */
  tag: z.number().int().optional(),
  /** Allowed VLANs on a trunk port; empty = all. */
  trunks: z.array(z.number().int()),
  /** net_uuid, network_type, physical_network, tag as the Neutron agent sets them. */
  other_config: z.record(z.string(), z.string()),
  external_ids: z.record(z.string(), z.string()),
  interfaces: z.array(OvsInterfaceSchema),
});
export type OvsPort = z.infer<typeof OvsPortSchema>;

/** One entry of `ovs-appctl fdb/show BRIDGE` (it has no JSON form). */
export const OvsFdbEntrySchema = z.object({
  /** The port's name, from its ofport on this bridge ("LOCAL" for the bridge's internal port). */
  port: z.string(),
  ofport: z.union([z.number().int(), z.literal('LOCAL')]),
  vlan: z.number().int(),
  mac: z.string(),
  /** Seconds since last seen, or "static" for fdb/add entries. */
  age: z.union([z.number().int(), z.literal('static')]),
});
export type OvsFdbEntry = z.infer<typeof OvsFdbEntrySchema>;

/** A Mirror row (SPAN): what it selects and where it sends copies. */
export const OvsMirrorSchema = z.object({
  name: z.string(),
  select_all: z.boolean(),
  select_src_port: z.array(z.string()),
  select_dst_port: z.array(z.string()),
  output_port: z.string().optional(),
  output_vlan: z.number().int().optional(),
});

export const OvsBridgeSchema = z.object({
  name: z.string(),
  datapath_type: z.string(),
  /** secure: no NORMAL fallback without flows (Neutron sets it). */
  fail_mode: z.string().optional(),
  ports: z.array(OvsPortSchema),
  flows: z.array(OvsFlowSchema),
  fdb: z.array(OvsFdbEntrySchema),
  mirrors: z.array(OvsMirrorSchema),
});
export type OvsBridge = z.infer<typeof OvsBridgeSchema>;

/** Datapath counters: `dpctl/show` lookups and `coverage/show` drop counters (totals; compare two reads). */
export const OvsDatapathStatsSchema = z.object({
  datapaths: z.array(z.object({ name: z.string(), hit: z.number(), missed: z.number(), lost: z.number() })),
  /** coverage counters whose name says drop (drop_action_*, datapath_drop_*, *_drop), total since start. */
  dropCounters: z.record(z.string(), z.number()),
});
export type OvsDatapathStats = z.infer<typeof OvsDatapathStatsSchema>;

export const OvsStateSchema = z.object({
  /** The database asked (the lab's private one, or OVS_RUNDIR's). */
  db: z.string(),
  /** Where the bridges' management sockets are (BRIDGE.mgmt). */
  rundir: z.string(),
  /** The ovs-vswitchd control socket ovs-appctl talks to (fdb/show, ofproto/trace). */
  appctl: z.string().optional(),
  bridges: z.array(OvsBridgeSchema),
  stats: OvsDatapathStatsSchema.optional(),
});
export type OvsState = z.infer<typeof OvsStateSchema>;

export const NamespaceSchema = z.object({
  /**
   * How hopdump refers to it everywhere (peers, hops): its name, "host" for the
   * real root namespace, or "pid:N" for an unnamed one entered through process N.
   */
  id: z.string(),
  /** The name in /run/netns, or null for an unnamed one (e.g. a container's). */
  name: z.string().nullable(),
  /** True for the namespace the model is seen from. */
  isRoot: z.boolean(),
  /** The id the root namespace knows it by (`ip netns list-id`). */
  nsid: z.number().int().optional(),
  /** How hopdump entered it when it has no name (e.g. a process in it). */
  enteredVia: z.string().optional(),
  /** False when the namespace is known (by id) but could not be entered. */
  collected: z.boolean(),
  interfaces: z.array(InterfaceSchema),
  bridges: z.array(BridgeSchema),
  routes: z.array(RouteSchema),
  neighbours: z.array(NeighbourSchema),
  sysctls: SysctlsSchema.optional(),
  listeners: z.array(ListenerSchema).optional(),
  qdiscs: z.array(QdiscSchema).optional(),
  tcFilters: z.array(TcFilterSchema).optional(),
  firewall: FirewallSchema.optional(),
  ovs: OvsStateSchema.optional(),
});
export type Namespace = z.infer<typeof NamespaceSchema>;

export const TopologySchema = z.object({
  schemaVersion: z.literal(1),
  host: z.string(),
  collectedAt: z.string(),
  /** Name of the namespace seen as the host's root ("" for the real root namespace). */
  root: z.string(),
  namespaces: z.array(NamespaceSchema),
  /** libvirt domains (virsh dumpxml), when a libvirtd answers: their NICs' taps are in the namespaces. */
  domains: z.array(DomainSchema).optional(),
  /** Docker containers and networks (Engine API), when a dockerd answers: endpoints joined to their namespaces. */
  docker: DockerStateSchema.optional(),
  /**
   * Podman's own networks (netavark) and its running containers, from their files and conmon
   * processes (src/collect/podman.ts), in Docker's shape: endpoints joined to their namespaces.
   */
  podman: DockerStateSchema.optional(),
  /**
   * Guest NICs the platforms' own files and processes describe (QEMU command
   * lines, libvirt status XML and leases, Proxmox VE, LXC and Incus/LXD configs): how a
   * silent guest's address is joined to its backend.
   */
  guests: z.array(GuestNicSchema).optional(),
  warnings: z.array(z.string()),
});
export type Topology = z.infer<typeof TopologySchema>;

export function findNamespace(topology: Topology, id: string): Namespace | undefined {
  return topology.namespaces.find((n) => n.id === id);
}

export function rootNamespace(topology: Topology): Namespace {
  const root = topology.namespaces.find((n) => n.isRoot);
  if (!root) throw new Error('topology has no root namespace');
  return root;
}

/**
 * The MAC the target answers with. A guest NIC's own; for a backend (a tap
 * whose guest hopdump cannot see) the MAC libvirt, QEMU's command line or the
 * platform's config gave the guest's NIC, else
 * unknown: a tap's own MAC (fe:54:…) is never the guest's.
 */
export function targetMacOf(topology: Topology, netns: string, ifname: string): string | undefined {
  const ns = findNamespace(topology, netns);
  const iface = ns?.interfaces.find((i) => i.ifname === ifname);
  if (!ns || !iface) return undefined;
  if (ns.isRoot && (iface.kind === 'tap' || iface.master || iface.ovsBridge)) {
    return (
      topology.domains
        ?.flatMap((d) => d.interfaces)
        .find((i) => i.targetDev === ifname)
        ?.mac?.toLowerCase() ??
      // A guest outside libvirt: the MAC its QEMU command line or platform config gives it.
      topology.guests?.find((g) => g.ifname === ifname && g.mac && (g.netns ?? netns) === netns)?.mac
    );
  }
  return iface.address?.toLowerCase();
}

/** A patch port of the OVS bridge whose peer is no patch port anywhere (or that OVS reports an error for). */
export function danglingPatch(ns: Namespace, bridge: string): OvsInterface | undefined {
  const all = ns.ovs?.bridges.flatMap((b) => b.ports.flatMap((p) => p.interfaces)) ?? [];
  const br = ns.ovs?.bridges.find((b) => b.name === bridge);
  for (const p of br?.ports ?? []) {
    for (const i of p.interfaces) {
      if (i.type !== 'patch') continue;
      const peer = i.options['peer'];
      if (!peer || !all.some((x) => x.name === peer && x.type === 'patch') || i.error) return i;
    }
  }
  return undefined;
}

/** The iptables nat table's DNAT rules of the namespace. */
export function iptablesDnatRules(ns: Namespace): IptablesChain['rules'] {
  return (ns.firewall?.iptables ?? [])
    .filter((c) => c.table === 'nat')
    .flatMap((c) => c.rules.filter((r) => r.target === 'DNAT'));
}

/** The macvlan, macvtap and ipvlan devices, in any namespace, whose lower device is `netns`'s device `ifindex`. */
export function lowerChildren(
  topology: Pick<Topology, 'namespaces'>,
  netns: string,
  ifindex: number,
): Array<{ ns: Namespace; iface: Interface }> {
  return topology.namespaces.flatMap((ns) =>
    ns.interfaces
      .filter((i) => i.lower?.netns === netns && i.lower.ifindex === ifindex)
      .map((iface) => ({ ns, iface })),
  );
}

/** The lower device of a macvlan, macvtap or ipvlan, with its namespace, when the model has it. */
export function lowerOf(
  topology: Pick<Topology, 'namespaces'>,
  iface: Interface,
): { ns: Namespace; iface: Interface } | undefined {
  const lower = iface.lower;
  const ns = lower?.netns ? topology.namespaces.find((n) => n.id === lower.netns) : undefined;
  const dev = ns?.interfaces.find((i) => i.ifindex === lower!.ifindex);
  return ns && dev ? { ns, iface: dev } : undefined;
}

/**
 * The veth end that points back at a container's NIC, in whichever other namespace it is: by the
 * symmetric ifindex pair, since the NIC's peer namespace may have no name to match on.
 */
export function vethPeerOf(namespaces: Namespace[], ns: Namespace, nic: Interface): Interface | undefined {
  const peer = nic.peer;
  if (!peer) return undefined;
  return namespaces
    .filter((n) => n !== ns && (!peer.netns || n.id === peer.netns || n.name === peer.netns || n.isRoot))
    .flatMap((n) => n.interfaces)
    .find((i) => i.ifindex === peer.ifindex && i.peer?.ifindex === nic.ifindex);
}
