import { usageError } from '../errors.js';
import type { LabBuilder, LabTarget, LabTopology } from './types.js';

/**
 * Randomized lab variants (docs/lab.md, "Variants"): the same topology with
 * everything a real host could have chosen drawn from a seed — interface
 * names from real naming schemes, addresses from each documentation range,
 * MAC prefixes of real hypervisors, service ports. Topologies and faults stay
 * written in the lab's canonical names ("vnet0", "192.0.2.11"); the lab
 * builder rewrites every argv and every stdin it passes on through
 * `translate`, so a fault cannot forget a name, and hopdump (which never sees
 * the canonical names) has to find everything on its own.
 */

/**
 * Topologies with variants: those whose names and addresses are the lab's own, those whose
 * daemons (Docker, Nova/Neutron, OVN) name some things themselves (those names stay as the daemon
 * makes them, everything the operator chooses moves), and the QEMU guests.
 */
export const VARIANT_TOPOLOGIES = [
  'bridged',
  'routed',
  'chain',
  'macvlan',
  'ovs',
  'neutron',
  'docker',
  'ovn',
  'vm',
  'vm-macvtap',
] as const;

/**
 * The variant topologies whose guest is a real QEMU guest (TCG: tens of seconds per lab), not a
 * namespace: the slow ones, which the commit-seed test runs only in part (docs/lab.md).
 */
export const QEMU_VARIANT_TOPOLOGIES: readonly string[] = ['vm', 'vm-macvtap'];

/** The values each dimension can take; the coverage test draws seeds 0-99 and expects each one. */
export const DIMENSIONS = {
  uplink: ['eth0', 'ens3', 'enp1s0', 'eno1'],
  bridge: ['br0', 'virbr0', 'vmbr0', 'docker0', 'br-<hex>', 'cni0', 'lxdbr0'],
  /** macvtapN: libvirt's own name for a direct interface's macvtap (vm-macvtap only). */
  backend: ['vnetN', 'tapN', 'tap<vmid>i<n>', 'veth<hex>', 'qvo<id>', 'macvtapN'],
  guestNic: ['eth0', 'ens3', 'enp1s0'],
  guestOui: ['52:54:00', 'bc:24:11', 'fa:16:3e', '02:42'],
  /** Which documentation range each of the lab's canonical /24 prefixes becomes: a permutation. */
  ranges: ['192.0.2', '198.51.100', '203.0.113'],
  servicePort: ['well-known', 'registered'],
  /**
   * An extra bridge in series on each guest's way (bridged only): the per-NIC firewall bridge that
   * Proxmox VE adds with firewall=1 (tap -> fwbr<vmid>i0 -> fwln<vmid>i0 = fwpr<vmid>p0 -> vmbr0),
   * as Neutron's hybrid plug adds qbr.
   */
  firewallBridge: ['no', 'yes'],
  /**
   * A bridge inside the guest holding the guest's address, its NIC a port of it (a guest that is
   * itself a Docker/LXD host, or a nested hypervisor): one more hop behind the guest's NIC.
   */
  guestBridge: ['no', 'br0', 'docker0', 'lxdbr0', 'virbr0'],
  /**
   * A macvlan child (mode bridge) of the guest's NIC holding the guest's addresses, routes and MAC
   * (a guest that is itself a Docker host with a macvlan network on its NIC, reaching its own
   * containers through a "shim" macvlan, or an LXD host with nictype=macvlan): one more hop behind
   * the guest's NIC, which gets another MAC. The value is the child's name. A guest has either this
   * or a bridge inside, not both: where the seed draws both, the macvlan wins.
   */
  guestMacvlan: ['no', 'macvlan0', 'mac0', 'macvlan-shim'],
  /**
   * Where the lab's private daemons (Open vSwitch) keep their database and sockets: the lab's own
   * default, or a directory of the variant's own, so that discovery must find them by process.
   */
  daemonDir: ['default', '/run/<name>', '/var/lib/<name>', '/srv/<name>'],
  /**
   * How the cloud management system names OVN's logical switch and ports (ovn only): the lab's
   * own (ls1, vm1), Neutron's (neutron-<network uuid>, <port uuid>) or ovn-kubernetes' (the node's
   * switch, <namespace>_<pod> ports, k8s-<node> for the node's own port).
   */
  logicalNames: ['lab', 'neutron', 'ovn-kubernetes'],
  /**
   * Which network the docker lab's container is on (docker only): Docker's default network on
   * docker0, a user-defined network (`docker network create`: a br-<12 hex> bridge; docker0 stays,
   * empty, on a subnet of its own), or the default network on a bridge the operator made
   * (daemon.json's "bridge": NAME, the name one of the bridge dimension's others). The bridge
   * dimension then records the name this gives.
   */
  dockerNetwork: ['default', 'user-defined', 'own-bridge'],
  /**
   * What the guest is and who runs it (issue 16): a network namespace (every namespace topology),
   * or a QEMU guest run by libvirt with a guest agent, by libvirt without one (no
   * org.qemu.guest_agent.0 channel), or by plain QEMU without libvirt (as Proxmox VE's qemu-server
   * starts it, its tap put on the bridge by the lab).
   */
  guestKind: ['namespace', 'libvirt+agent', 'libvirt', 'qemu'],
} as const;

export type Dimension = keyof typeof DIMENSIONS;

/** The dimensions a topology's variants draw (the others do not apply to it and keep their first value). */
export function dimensionsOf(topology: string): Dimension[] {
  const all = Object.keys(DIMENSIONS) as Dimension[];
  const renamed = RENAMED[topology];
  return all.filter((d) => {
    if (d === 'firewallBridge') return topology === 'bridged';
    if (d === 'bridge') return renamed?.bridge !== undefined;
    if (d === 'backend') return (renamed?.backends.length ?? 0) > 0;
    if (d === 'guestOui') return (renamed?.guestMacs.length ?? 0) > 0;
    // Docker 20.10 names every container's NIC eth0 (its endpoint ifname option came with 27.0);
    // the QEMU guest's NIC is named by its kernel (eth0); its guests are not namespace roles.
    if (d === 'guestNic') return (renamed?.guestRoles.length ?? 0) > 0;
    // A macvlan child as a bridge port, or a macvlan of a macvlan: not a thing Docker or anyone builds.
    // A Docker container is not a lab namespace (Docker's own sandbox): nothing is built in it.
    if (d === 'guestBridge' || d === 'guestMacvlan')
      return topology !== 'macvlan' && (renamed?.guestRoles.length ?? 0) > 0;
    if (d === 'daemonDir') return renamed?.daemons === true;
    if (d === 'logicalNames') return renamed?.logical !== undefined;
    if (d === 'dockerNetwork') return topology === 'docker';
    // A namespace topology's guests are namespaces: 'namespace', its first value, is all it can be.
    if (d === 'guestKind') return renamed?.qemu !== undefined;
    return true;
  });
}

/**
 * The values a dimension takes on a topology (those the coverage test expects for seeds 0-99): all
 * of DIMENSIONS' except where the topology allows fewer. A QEMU guest's backend is a tap (libvirt's
 * vnetN, a chosen tapN or Proxmox's tap<vmid>i<n>) or, on a direct interface, a macvtap (libvirt's
 * macvtapN, or a chosen tapN); a namespace is not a kind of QEMU guest, nor a macvtap a backend of a
 * namespace topology.
 */
export function valuesOf(topology: string, dim: Dimension): readonly string[] {
  const all: readonly string[] = DIMENSIONS[dim];
  const qemu = RENAMED[topology]?.qemu;
  if (dim === 'backend') {
    if (qemu === 'tap') return ['vnetN', 'tapN', 'tap<vmid>i<n>'];
    if (qemu === 'macvtap') return ['macvtapN', 'tapN'];
    return all.filter((v) => v !== 'macvtapN');
  }
  if (dim === 'guestKind') return qemu ? all.filter((v) => v !== 'namespace') : ['namespace'];
  return all;
}

/** Whether a variant's QEMU guest has a guest agent that hopdump can use (the fixed lab's has). */
export function guestHasAgent(plan: VariantPlan | undefined): boolean {
  return !plan || plan.drawn.guestKind === 'libvirt+agent' || plan.drawn.guestKind === 'namespace';
}

export interface VariantPlan {
  seed: number;
  topology: string;
  /** The value each dimension took (the scheme, not the drawn name). */
  drawn: Record<Dimension, string>;
  /** role -> canonical interface name -> this variant's name. */
  ifnames: Record<string, Record<string, string>>;
  /** canonical IPv4 /24 prefix ("192.0.2") -> this variant's. */
  v4: Record<string, string>;
  /** A 16-bit site inserted after 2001:db8: (2001:db8::11 -> 2001:db8:SITE::11, 2001:db8:5100::1 -> 2001:db8:SITE:5100::1). */
  v6: string;
  /** canonical MAC -> this variant's (guests with QEMU's OUI; Docker MACs follow the address). */
  macs: Record<string, string>;
  /** canonical service port -> this variant's. */
  ports: Record<string, string>;
  /** Firewall bridges in series: per guest role, the canonical backend and the chain's names. */
  firewallBridges: Array<{ backend: string; bridge: string; outer: string; inner: string }>;
  /** Bridges inside guests: the guest's NIC (canonical eth0) becomes their port, they hold its addresses. */
  guestBridges: Array<{ role: string; bridge: string }>;
  /**
   * Macvlans inside guests: a child of the guest's NIC (canonical eth0) named `child` takes over its
   * addresses, routes and MAC; the NIC gets `nicMac`.
   */
  guestMacvlans: Array<{ role: string; child: string; nicMac: string }>;
  /** Where the lab's private daemons live, when the variant moved them (shared by labs of the same seed). */
  daemonDir?: string;
  /** Which network the docker lab's container is on (the dockerNetwork dimension; docker only). */
  dockerNetwork?: (typeof DIMENSIONS.dockerNetwork)[number];
  /**
   * role -> name of an extra hop -> the canonical hops around it on the way to the target: a loss
   * segment that starts or ends on an extra hop is the canonical segment between those two.
   */
  extraHops: Record<string, Record<string, { before: string; after: string }>>;
}

/** mulberry32: small, fast and good enough to draw names; the same seed gives the same host. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parseSeed(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw usageError(`invalid variant seed '${text}'`, 'use a whole number from 0 to 4294967295');
  }
  return Number(text);
}

/** The canonical names of each topology that a variant renames, by the dimension that renames them. */
const RENAMED: Record<
  string,
  {
    uplink: string;
    bridge?: string;
    backends: string[];
    guestRoles: string[];
    guestMacs: string[];
    libvirtTaps?: true;
    daemons?: true;
    /** OVN's logical switch (first) and ports, as the management system names them. */
    logical?: { switch: string; ports: string[] };
    /** A QEMU guest, on a tap or on a macvtap: the kind of guest is drawn, and the backend names are a QEMU's. */
    qemu?: 'tap' | 'macvtap';
  }
> = {
  bridged: {
    uplink: 'eth0',
    bridge: 'br0',
    backends: ['vnet0', 'vnet1'],
    guestRoles: ['vm1', 'vm2'],
    guestMacs: ['52:54:00:00:00:11', '52:54:00:00:00:12'],
    libvirtTaps: true,
  },
  // Open vSwitch's bridges keep their names (br-ex, br-int are what OpenStack names them).
  ovs: {
    uplink: 'eth0',
    backends: ['vnet0', 'vnet1'],
    guestRoles: ['vm1', 'vm2'],
    guestMacs: ['52:54:00:00:00:11', '52:54:00:00:00:12'],
    libvirtTaps: true,
    daemons: true,
  },
  // Docker's MACs follow the container's address (mapMac), so no guest OUI is drawn there.
  routed: { uplink: 'eth0', bridge: 'docker0', backends: ['veth9a1b2c3'], guestRoles: ['ct1'], guestMacs: [] },
  // Nova and Neutron name every device from the port's UUID (tap/qbr/qvb/qvo<11>) and give the
  // guest an fa:16:3e MAC: those stay; where the private OVS lives, the ranges and ports move.
  neutron: { uplink: 'eth0', backends: [], guestRoles: ['vm1', 'vm2'], guestMacs: [], daemons: true },
  // Proxmox's chain keeps its own fwbr/fwpr/fwln names: they are the chain being tested.
  chain: {
    uplink: 'eth0',
    bridge: 'vmbr0',
    backends: ['tap100i0'],
    guestRoles: ['vm100'],
    guestMacs: ['bc:24:11:00:01:00'],
  },
  // The containers' macvlans are their own eth0: no bridge, no backend on the host.
  macvlan: { uplink: 'eth0', backends: [], guestRoles: ['ct1', 'ct2'], guestMacs: [] },
  // A real dockerd: it names the veth (veth<7 hex>) and the container's eth0 and derives the MAC
  // from the address; the bridge is the operator's choice (the default network's docker0, a
  // user-defined network, or a bridge of their own), and so are the ranges, ports and where
  // dockerd keeps its socket, data-root and exec-root.
  docker: { uplink: 'eth0', bridge: 'docker0', backends: [], guestRoles: [], guestMacs: [], daemons: true },
  // OVN: the OVS ports (iface-id), the guests' NICs and MACs and the logical names are what the
  // management system chooses; br-int and OVN's own flows keep their names.
  ovn: {
    uplink: 'eth0',
    backends: ['tapvm1', 'tapvm2'],
    guestRoles: ['vm1', 'vm2'],
    guestMacs: ['02:00:00:0a:00:11', '02:00:00:0a:00:12'],
    daemons: true,
    logical: { switch: 'ls1', ports: ['client', 'vm1', 'vm2'] },
  },
  // A QEMU guest under the lab's libvirtd (whose directory moves) or plain QEMU; its NIC is the
  // guest kernel's eth0, in no namespace role (the lab reaches inside through its own channel).
  vm: {
    uplink: 'eth0',
    bridge: 'br0',
    backends: ['vnet0'],
    guestRoles: [],
    guestMacs: ['52:54:00:00:00:11'],
    libvirtTaps: true,
    daemons: true,
    qemu: 'tap',
  },
  // The same guest on a macvtap of the uplink: no bridge; the macvtap has the guest's MAC.
  'vm-macvtap': {
    uplink: 'eth0',
    backends: ['macvtap0'],
    guestRoles: [],
    guestMacs: ['52:54:00:00:00:11'],
    daemons: true,
    qemu: 'macvtap',
  },
};

/** Values of a dimension that a fault cannot be built with (its change would not break anything there). */
export type VariantExcludes = Partial<Record<Dimension, readonly string[]>>;

export function drawVariant(topology: string, seed: number, excludes: VariantExcludes = {}): VariantPlan {
  const renamed = RENAMED[topology];
  if (!renamed) {
    throw usageError(
      `the ${topology} topology has no variants`,
      `variants exist for: ${VARIANT_TOPOLOGIES.join(', ')}`,
    );
  }
  const rnd = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

  const drawn = {} as Record<Dimension, string>;
  drawn.uplink = pick(DIMENSIONS.uplink);
  drawn.bridge = pick(DIMENSIONS.bridge);
  // One draw each whatever the list: a topology's seeds stay the hosts they were when a dimension grew.
  drawn.backend = pick(valuesOf(topology, 'backend'));
  drawn.guestNic = pick(DIMENSIONS.guestNic);
  drawn.guestOui = pick(DIMENSIONS.guestOui);
  drawn.servicePort = pick(DIMENSIONS.servicePort);

  const bridge = drawn.bridge === 'br-<hex>' ? `br-${hex(12)}` : drawn.bridge;
  const firstIndex = int(0, 40);
  const vmid = int(100, 9999);
  const backendName = (i: number): string => {
    switch (drawn.backend) {
      case 'vnetN':
        return `vnet${firstIndex + i}`;
      case 'tapN':
        return `tap${firstIndex + i}`;
      case 'tap<vmid>i<n>':
        return `tap${vmid + i}i0`;
      case 'veth<hex>':
        return `veth${hex(7)}`;
      case 'macvtapN':
        return `macvtap${firstIndex + i}`;
      default:
        return `qvo${hex(8)}-${hex(2)}`;
    }
  };
  const hv: Record<string, string> = {
    [renamed.uplink]: drawn.uplink,
    ...(renamed.bridge ? { [renamed.bridge]: bridge } : {}),
  };
  renamed.backends.forEach((b, i) => (hv[b] = backendName(i)));
  const ifnames: Record<string, Record<string, string>> = { hv };
  for (const role of renamed.guestRoles) ifnames[role] = { eth0: drawn.guestNic };

  // A permutation of the three ranges, drawn by shuffling.
  const ranges = [...DIMENSIONS.ranges];
  for (let i = ranges.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [ranges[i], ranges[j]] = [ranges[j]!, ranges[i]!];
  }
  const v4: Record<string, string> = {};
  DIMENSIONS.ranges.forEach((r, i) => (v4[r] = ranges[i]!));
  drawn.ranges = ranges.join(',');
  const v6 = int(1, 0xffff).toString(16);

  const macs: Record<string, string> = {};
  const ouiBytes = drawn.guestOui === '02:42' ? `02:42:${hex(2)}` : drawn.guestOui;
  for (const [i, guestMac] of renamed.guestMacs.entries()) {
    const lower = `${hex(2)}:${hex(2)}:${hex(2)}`;
    macs[guestMac] = `${ouiBytes}:${lower}`;
    // libvirt gives the tap the guest's MAC with fe as its first byte.
    if (renamed.libvirtTaps) macs[`fe:54:00:00:00:1${i + 1}`] = `fe:${ouiBytes.slice(3)}:${lower}`;
  }
  const ports: Record<string, string> = {};
  for (const p of ['80', '9200']) {
    ports[p] = String(
      drawn.servicePort === 'well-known' ? pick([80, 443, 8080, 8443, 3306, 5432, 6379]) : int(1025, 49151),
    );
  }
  drawn.firewallBridge = pick(DIMENSIONS.firewallBridge);
  drawn.guestBridge = pick(DIMENSIONS.guestBridge);
  drawn.daemonDir = pick(DIMENSIONS.daemonDir);
  const daemonBase = `lab-${hex(8)}`;
  // Drawn after everything else, so that adding it left the other topologies' hosts as they were.
  drawn.logicalNames = pick(DIMENSIONS.logicalNames);
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(rnd() * 4)).toString(16)}${hex(3)}-${hex(12)}`;
  const node = `worker-${hex(5)}`;
  drawn.dockerNetwork = pick(DIMENSIONS.dockerNetwork);
  const ownBridge = pick(DIMENSIONS.bridge.filter((b) => b !== 'docker0' && b !== 'br-<hex>'));
  const networkHex = hex(12);
  // Drawn last, so that every other dimension of a seed stays what it was before it existed.
  // Half the seeds: with a bridge inside the guest four values in five, it would be rare otherwise.
  drawn.guestMacvlan = rnd() < 0.5 ? 'no' : pick(DIMENSIONS.guestMacvlan.slice(1));
  // A locally administered unicast MAC for each guest NIC whose MAC goes to its macvlan child.
  const nicMacs = renamed.guestRoles.map(
    () => `${(int(0, 63) * 4 + 2).toString(16).padStart(2, '0')}:${hex(2)}:${hex(2)}:${hex(2)}:${hex(2)}:${hex(2)}`,
  );
  // One or the other inside a guest: the macvlan wins (the seed's host is the same for every fault).
  if (drawn.guestMacvlan !== 'no') drawn.guestBridge = 'no';
  // Drawn last, so that the namespace topologies' seeds draw what they drew before it existed.
  drawn.guestKind = pick(valuesOf(topology, 'guestKind'));
  for (const dim of Object.keys(DIMENSIONS) as Dimension[]) {
    if (dim !== 'ranges' && !dimensionsOf(topology).includes(dim)) drawn[dim] = valuesOf(topology, dim)[0]!;
  }
  // A fault that excludes a value takes the dimension's first value instead; everything else
  // stays as the seed drew it, so that the same seed is the same host for every fault.
  for (const [dim, values] of Object.entries(excludes) as Array<[Dimension, readonly string[]]>) {
    if (values.includes(drawn[dim])) drawn[dim] = valuesOf(topology, dim)[0]!;
  }
  // libvirt names a tap vnetN and a macvtap macvtapN itself (a <target dev> with those prefixes is
  // ignored) from 0 in its own daemon: the lab's one guest gets vnet0 or macvtap0. Plain QEMU is
  // told its tap's name, and the lab names the macvtap it makes for it.
  if (drawn.guestKind === 'libvirt+agent' || drawn.guestKind === 'libvirt') {
    renamed.backends.forEach((b, i) => {
      if (drawn.backend === 'vnetN') hv[b] = `vnet${i}`;
      if (drawn.backend === 'macvtapN') hv[b] = `macvtap${i}`;
    });
  }
  const firewallBridges: VariantPlan['firewallBridges'] = [];
  const extraHops: VariantPlan['extraHops'] = { hv: {} };
  if (drawn.firewallBridge === 'yes') {
    renamed.backends.forEach((backend, i) => {
      const id = vmid + i;
      const fw = { backend, bridge: `fwbr${id}i0`, outer: `fwpr${id}p0`, inner: `fwln${id}i0` };
      firewallBridges.push(fw);
      const around = { before: renamed.uplink, after: backend };
      Object.assign(extraHops.hv!, { [fw.outer]: around, [fw.inner]: around, [fw.bridge]: around });
    });
  }
  const guestBridges: VariantPlan['guestBridges'] = [];
  if (drawn.guestBridge !== 'no') {
    for (const role of renamed.guestRoles) {
      guestBridges.push({ role, bridge: drawn.guestBridge });
      extraHops[role] = { [drawn.guestBridge]: { before: 'eth0', after: 'eth0' } };
    }
  }
  const guestMacvlans: VariantPlan['guestMacvlans'] = [];
  if (drawn.guestMacvlan !== 'no') {
    renamed.guestRoles.forEach((role, i) => {
      guestMacvlans.push({ role, child: drawn.guestMacvlan, nicMac: nicMacs[i]! });
      extraHops[role] = { [drawn.guestMacvlan]: { before: 'eth0', after: 'eth0' } };
    });
  }
  const daemonDir = drawn.daemonDir === 'default' ? undefined : drawn.daemonDir.replace('<name>', daemonBase);
  // Logical names are rewritten like interface names, in the hypervisor's argv (ovn-nbctl, iface-id).
  if (renamed.logical && drawn.logicalNames !== 'lab') {
    const { switch: ls, ports: lports } = renamed.logical;
    const neutron = drawn.logicalNames === 'neutron';
    hv[ls] = neutron ? `neutron-${uuid()}` : node;
    for (const [i, lport] of lports.entries()) {
      hv[lport] = neutron ? uuid() : i === 0 ? `k8s-${node}` : `default_${lport}-${hex(10)}-${hex(5)}`;
    }
  }
  // Docker's bridge follows from the network the container is on.
  let dockerNetwork: VariantPlan['dockerNetwork'];
  if (topology === 'docker') {
    dockerNetwork = drawn.dockerNetwork as VariantPlan['dockerNetwork'];
    drawn.bridge = dockerNetwork === 'default' ? 'docker0' : dockerNetwork === 'user-defined' ? 'br-<hex>' : ownBridge;
    hv[renamed.bridge!] = drawn.bridge === 'br-<hex>' ? `br-${networkHex}` : drawn.bridge;
  }
  return {
    seed,
    topology,
    drawn,
    ifnames,
    v4,
    v6,
    macs,
    ports,
    firewallBridges,
    guestBridges,
    guestMacvlans,
    extraHops,
    ...(daemonDir ? { daemonDir } : {}),
    ...(dockerNetwork ? { dockerNetwork } : {}),
  };
}

/**
 * What a variant adds after the topology is built and before a fault is applied: each firewall
 * bridge in series takes the guest's backend off the main bridge, as Proxmox VE wires it.
 */
export async function buildExtras(lab: LabBuilder, plan: VariantPlan): Promise<void> {
  const RENAMED_BRIDGE = RENAMED[plan.topology]!.bridge!;
  for (const fw of plan.firewallBridges) {
    await lab.run('hv', ['ip', 'link', 'add', fw.bridge, 'type', 'bridge']);
    await lab.run('hv', ['ip', 'link', 'add', fw.outer, 'type', 'veth', 'peer', 'name', fw.inner]);
    await lab.run('hv', ['ip', 'link', 'set', fw.backend, 'nomaster']);
    await lab.run('hv', ['ip', 'link', 'set', fw.backend, 'master', fw.bridge]);
    await lab.run('hv', ['ip', 'link', 'set', fw.inner, 'master', fw.bridge]);
    await lab.run('hv', ['ip', 'link', 'set', fw.outer, 'master', RENAMED_BRIDGE]);
    for (const dev of [fw.bridge, fw.outer, fw.inner]) await lab.run('hv', ['ip', 'link', 'set', dev, 'up']);
  }
  for (const gb of plan.guestBridges) await bridgeInsideGuest(lab, gb.role, gb.bridge);
  for (const gm of plan.guestMacvlans) await macvlanInsideGuest(lab, gm.role, gm.child, gm.nicMac);
}

/** A guest's global addresses and default routes, read back from its namespace (in the variant's terms already). */
async function guestAddressing(lab: LabBuilder, role: string, nic: string) {
  const addrs = JSON.parse(
    (await lab.host.run(['ip', '-j', 'addr', 'show', 'dev', nic], { netns: lab.ns(role) })).stdout,
  ) as Array<{
    address: string;
    addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
  }>;
  const routes: Array<{ family: string; gateway: string }> = [];
  for (const family of ['-4', '-6']) {
    const list = JSON.parse((await lab.run(role, ['ip', family, '-j', 'route', 'show', 'default'])).stdout) as Array<{
      gateway?: string;
    }>;
    for (const r of list) if (r.gateway) routes.push({ family, gateway: r.gateway });
  }
  return {
    mac: addrs[0]!.address,
    addrs: addrs.flatMap((x) => x.addr_info).filter((a) => a.scope === 'global'),
    routes,
  };
}

/** Moves the guest NIC's global addresses and its routes onto a new bridge that the NIC joins. */
async function bridgeInsideGuest(lab: LabBuilder, role: string, bridge: string): Promise<void> {
  const nic = lab.real(role, 'eth0');
  const { addrs, routes } = await guestAddressing(lab, role, nic);
  // Names and addresses read back from the namespace are already the variant's: run them verbatim.
  const run = (argv: string[]) => lab.host.run(argv, { netns: lab.ns(role) });
  await run(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  await run(['ip', 'addr', 'flush', 'dev', nic, 'scope', 'global']);
  await run(['ip', 'link', 'set', nic, 'master', bridge]);
  await run(['ip', 'link', 'set', bridge, 'up']);
  for (const a of addrs) {
    await run([
      'ip',
      'addr',
      'add',
      `${a.local}/${a.prefixlen}`,
      'dev',
      bridge,
      ...(a.family === 'inet6' ? ['nodad'] : []),
    ]);
  }
  for (const r of routes) await run(['ip', r.family, 'route', 'replace', 'default', 'via', r.gateway, 'dev', bridge]);
}

/**
 * Moves the guest NIC's global addresses, its routes and its MAC onto a new macvlan child of the
 * NIC in bridge mode, as a Docker host does to reach its own containers on a macvlan network of
 * that NIC (the "macvlan shim"): frames for the guest's MAC arrive on the NIC and go to the child.
 * The NIC keeps working as the lower device, with a MAC of its own and no address.
 */
async function macvlanInsideGuest(lab: LabBuilder, role: string, child: string, nicMac: string): Promise<void> {
  const nic = lab.real(role, 'eth0');
  const { mac, addrs, routes } = await guestAddressing(lab, role, nic);
  const run = (argv: string[]) => lab.host.run(argv, { netns: lab.ns(role) });
  // Frames the NIC sends without the driver's checksum (the userspace OVS labs turn tx offload off
  // on the guest's NIC): the child, which transmits through it, likewise.
  const txOff = /^tx-checksumming: off/m.test((await run(['ethtool', '-k', nic])).stdout);
  await run(['ip', 'addr', 'flush', 'dev', nic, 'scope', 'global']);
  // The child takes the guest's MAC (a macvlan may not share its lower device's), the NIC another
  // one; down and up, so that the NIC's link-local address follows its new MAC.
  await run(['ip', 'link', 'set', nic, 'down']);
  await run(['ip', 'link', 'set', nic, 'address', nicMac]);
  await run(['ip', 'link', 'set', nic, 'up']);
  await run(['ip', 'link', 'add', child, 'link', nic, 'address', mac, 'type', 'macvlan', 'mode', 'bridge']);
  if (txOff) await run(['ethtool', '-K', child, 'tx', 'off']);
  // An ARP request for the guest's address arrives on the NIC as well as on the child, and Linux
  // answers for any of its addresses on any interface (arp_ignore=0): the NIC would answer with its
  // own MAC, often first (its children get broadcasts from a queue, after it). A host with a
  // macvlan shim sets this.
  await run(['sysctl', '-q', '-w', `net.ipv4.conf.${nic}.arp_ignore=1`]);
  await run(['ip', 'link', 'set', child, 'up']);
  for (const a of addrs) {
    await run([
      'ip',
      'addr',
      'add',
      `${a.local}/${a.prefixlen}`,
      'dev',
      child,
      ...(a.family === 'inet6' ? ['nodad'] : []),
    ]);
  }
  for (const r of routes) await run(['ip', r.family, 'route', 'replace', 'default', 'via', r.gateway, 'dev', child]);
}

const IPV4 = /\b(192\.0\.2|198\.51\.100|203\.0\.113)\.(\d{1,3})\b/g;
const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Rewrites the lab's canonical names, addresses, MACs and ports in one argument or stdin text. */
export function translate(plan: VariantPlan, role: string, text: string): string {
  let out = text.replace(MAC, (m) => mapMac(plan, m));
  out = out.replace(IPV4, (_m, prefix: string, host: string) => `${plan.v4[prefix] ?? prefix}.${host}`);
  out = out.replace(/\b2001:db8:/gi, `2001:db8:${plan.v6}:`);
  // One pass each, so that a drawn name or port that is also a canonical one (vnet0 -> vnet1,
  // vnet1 -> vnet2) is not rewritten twice.
  const names = plan.ifnames[role] ?? {};
  if (Object.keys(names).length > 0) {
    // A name is a word of its own: "vnet0" but not "vnet01"; dots and slashes
    // delimit it in sysctl keys (net.ipv4.conf.eth0.rp_filter) and paths.
    const re = new RegExp(`(?<![A-Za-z0-9_-])(${Object.keys(names).map(escape).join('|')})(?![A-Za-z0-9_-])`, 'g');
    out = out.replace(re, (m) => names[m] ?? m);
  }
  // After an IPv4 address ("A.B.C.D:PORT") or as port=PORT (the lab guest's kernel command line,
  // hopdump.port=80), never inside a MAC ("..:00:80"). "A.B.C.D:PORT:PORT" (docker run -p) maps the container's port too.
  const ports = new RegExp(
    `(^|(?<=\\.\\d{1,3}):|(?<=\\.\\d{1,3}:\\d{1,5}):|\\]:|--dport |dport |sport |sport = :|port=)(${Object.keys(plan.ports).join('|')})(?![\\w.])`,
    'g',
  );
  out = out.replace(ports, (_m, lead: string, port: string) => `${lead}${plan.ports[port] ?? port}`);
  return out;
}

function mapMac(plan: VariantPlan, mac: string): string {
  const lower = mac.toLowerCase();
  const known = plan.macs[lower];
  if (known) return known;
  // Docker derives a container's MAC from its address (02:42 + the IPv4 bytes): keep that true.
  const m = lower.match(/^02:42:([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/);
  if (m) {
    const prefix = [m[1], m[2], m[3]].map((h) => parseInt(h!, 16)).join('.');
    const mapped = plan.v4[prefix];
    if (mapped)
      return `02:42:${mapped
        .split('.')
        .map((n) => Number(n).toString(16).padStart(2, '0'))
        .join(':')}:${m[4]}`;
  }
  return mac;
}

/** Rewrites an interface name the way the builder rewrites it in that role. */
export function variantIfname(plan: VariantPlan | undefined, role: string, canonical: string): string {
  return plan?.ifnames[role]?.[canonical] ?? canonical;
}

/**
 * The canonical name of a variant's interface, for comparing a verdict with what the lab's faults
 * expect. An extra hop has none of its own: as the last hop that saw the traffic it stands for the
 * canonical hop before it in the direction of travel, as the first that missed it for the one after.
 */
export function canonicalIfname(
  plan: VariantPlan | undefined,
  role: string,
  name: string,
  at?: { end: 'last' | 'missing'; direction: 'to-target' | 'from-target' },
): string {
  const names = plan?.ifnames[role] ?? {};
  for (const [canonical, real] of Object.entries(names)) if (real === name) return canonical;
  // A device that has a canonical name the variant gave to another one (the empty docker0 beside a
  // user-defined network's bridge) is not the lab's: never let it pass for it.
  if (names[name] !== undefined) return `${name} (not the lab's ${name})`;
  const extra = plan?.extraHops[role]?.[name];
  if (!extra || !at) return name;
  const forward = at.direction === 'to-target';
  return (at.end === 'last') === forward ? extra.before : extra.after;
}

/** The topology as this variant builds it: its targets, uplink and ports in the variant's terms. */
export function variantTopology(topology: LabTopology, plan: VariantPlan | undefined): LabTopology {
  if (!plan) return topology;
  const tr = (role: string, s: string) => translate(plan, role, s);
  const target = (t: LabTarget): LabTarget => ({
    ...t,
    address: tr(t.role, t.address),
    ...(t.address6 ? { address6: tr(t.role, t.address6) } : {}),
    mac: tr(t.role, t.mac),
    // A macvlan container's "backend" is its own eth0, named in its own role.
    backend: RENAMED[topology.name]?.backends.length === 0 ? tr(t.role, t.backend) : tr(topology.hypervisor, t.backend),
    port: Number(plan.ports[String(t.port)] ?? t.port),
    ...(t.published
      ? {
          published: {
            address: tr(topology.hypervisor, t.published.address),
            port: Number(plan.ports[String(t.published.port)] ?? t.published.port),
          },
        }
      : {}),
  });
  const { suggestedTarget, ...rest } = topology;
  return {
    ...rest,
    uplink: {
      ifname: tr(topology.hypervisor, topology.uplink.ifname),
      address: tr(topology.hypervisor, topology.uplink.address),
    },
    targets: topology.targets.map(target),
    // "ct1:9200" (a container and its port) has its port moved too. A domain's name means nothing
    // without libvirt: plain QEMU's guest is suggested by its address.
    ...(suggestedTarget && plan.drawn.guestKind !== 'qemu'
      ? {
          suggestedTarget: tr(topology.hypervisor, suggestedTarget).replace(/:(\d+)$/, (m, p: string) =>
            plan.ports[p] ? `:${plan.ports[p]}` : m,
          ),
        }
      : {}),
  };
}
