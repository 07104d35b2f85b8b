import type { LabFault, LabTarget } from '../../src/lab/types.js';
import type { Report } from '../../src/model/report.js';
import { canonicalIfname, guestHasAgent, translate, type VariantPlan } from '../../src/lab/variant.js';

/**
 * What diagnose must say for every lab fault: the loss segment (roles of the
 * last hop that saw the traffic and the first that did not; null = none) and
 * the cause ranked first. A fault without an entry fails the test.
 */
export interface Expectation {
  /** One status, or the ones it may be (a partial loss can lose all of three probes). */
  status: Report['status'] | Array<Report['status']>;
  loss: { direction: 'to-target' | 'from-target'; last: string | null; missing: string | null } | null;
  top: string;
  probes?: string[];
  size?: number;
  /** The lab role the probes come from, when not the client (a fault only the host or a sibling sees). */
  from?: string;
  /**
   * A fault inside a QEMU guest, on a variant whose guest has no agent hopdump can use (guestKind
   * libvirt or qemu; docs/lab.md "Variants"): hopdump cannot see inside, the path ends at the
   * guest's backend, and the cause is the one that shows from outside (what reached the backend,
   * what came back). Loss, top cause and status replace the ones above.
   */
  noAgent?: Pick<Expectation, 'status' | 'loss' | 'top'>;
}

export const EXPECT: Record<string, Expectation> = {
  'firewall-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'firewall-drop',
  },
  'guest-firewall': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'firewall-drop',
  },
  'link-down': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'vm1/eth0' },
    top: 'link-down',
  },
  'bridge-port-missing': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'bridge-port-missing',
  },
  'stp-blocking': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'stp-blocking',
  },
  'mac-conflict': {
    status: ['degraded', 'broken'],
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'mac-conflict',
  },
  'ip-conflict': {
    status: 'degraded',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'ip-conflict',
  },
  'mtu-mismatch': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/vnet0', missing: 'vm1/eth0' },
    top: 'mtu-mismatch',
    probes: ['icmp'],
    size: 1472,
  },
  'tc-filter': {
    status: 'broken',
    loss: { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' },
    top: 'tc-filter',
  },
  'service-not-listening': { status: 'degraded', loss: null, top: 'service-not-listening', probes: ['icmp', 'tcp:80'] },
  'guest-arp-unresolved': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'guest-arp-unresolved',
  },
  'guest-drops-arp': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'firewall-drop',
  },
  'guest-arp-ignore': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'guest-arp-unresolved',
  },
  'arp-reply-dropped': {
    status: 'broken',
    loss: { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' },
    top: 'firewall-drop',
  },
  'guest-no-reply': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'guest-no-reply',
  },
  'upstream-no-traffic': {
    status: 'broken',
    loss: { direction: 'to-target', last: null, missing: 'hv/eth0' },
    top: 'upstream-no-traffic',
  },
  'device-drops': {
    status: ['degraded', 'broken'],
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'device-drops',
    probes: ['icmp'],
  },
  'promisc-dependent': {
    status: 'broken',
    loss: { direction: 'from-target', last: 'hv/veth9a1b2c3', missing: 'hv/docker0' },
    top: 'promisc-dependent',
  },
  'ip-forward-disabled': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' },
    top: 'ip-forward-disabled',
  },
  'rp-filter-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' },
    top: 'rp-filter-drop',
  },
  'docker-user-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' },
    top: 'firewall-drop',
    probes: ['icmp', 'tcp:9200@198.51.100.1'],
  },
  'docker-dnat-removed': {
    status: 'degraded',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' },
    top: 'nat-missing',
    probes: ['icmp', 'tcp:9200@198.51.100.1'],
  },
  'docker-not-listening': {
    status: 'degraded',
    loss: null,
    top: 'service-not-listening',
    probes: ['icmp', 'tcp:9200@198.51.100.1'],
  },
  'docker-promisc': {
    status: 'broken',
    loss: { direction: 'from-target', last: 'hv/veth*', missing: 'hv/docker0' },
    top: 'promisc-dependent',
    probes: ['icmp', 'tcp:9200@198.51.100.1'],
  },
  'nat-missing': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' },
    top: 'nat-missing',
    probes: ['tcp:9200@198.51.100.1'],
  },
  'ovs-flow-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'ovs-flow-drop',
  },
  'ovs-port-down': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'vm1/eth0' },
    top: 'link-down',
  },
  'neutron-flow-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'ovs-flow-drop',
  },
  'neutron-vlan-mismatch': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'vlan-mismatch',
  },
  'neutron-qvo-missing': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'bridge-port-missing',
  },
  'neutron-patch-peer-missing': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'bridge-port-missing',
  },
  'neutron-flow-wrong-port': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'ovs-flow-misdirect',
  },
  'neutron-mac-wrong-port': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/qvo3f2a9c1e-7b' },
    top: 'mac-wrong-port',
  },
  // Without an agent the guest is a closed box behind vnet0: requests reach it and nothing comes back
  // (guest-no-reply), or it keeps asking who-has and takes no reply (guest-arp-unresolved).
  'vm-guest-nic-down': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'hv/vnet0' },
    top: 'guest-nic-down',
    noAgent: {
      status: 'broken',
      loss: { direction: 'from-target', last: null, missing: 'hv/vnet0' },
      top: 'guest-no-reply',
    },
  },
  'vm-guest-mac-mismatch': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/vnet0', missing: 'guest:vm1/eth0' },
    top: 'guest-mac-mismatch',
    noAgent: {
      status: 'broken',
      loss: { direction: 'from-target', last: null, missing: 'hv/vnet0' },
      top: 'guest-no-reply',
    },
  },
  'vm-guest-firewall': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'guest:vm1/eth0' },
    top: 'firewall-drop',
    noAgent: {
      status: 'broken',
      loss: { direction: 'from-target', last: null, missing: 'hv/vnet0' },
      top: 'guest-no-reply',
    },
  },
  'vm-guest-ignores-arp': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'guest:vm1/eth0' },
    top: 'guest-arp-unresolved',
    noAgent: {
      status: 'broken',
      loss: { direction: 'from-target', last: null, missing: 'hv/vnet0' },
      top: 'guest-arp-unresolved',
    },
  },
  'vm-tap-detached': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' },
    top: 'bridge-port-missing',
  },
  'ovn-acl-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/tapvm1' },
    top: 'ovn-acl-drop',
  },
  'ovn-port-security': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/tapvm1' },
    top: 'ovn-port-security',
  },
  'no-route': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'ct1/eth0' },
    top: 'no-route',
  },
  // issue 16 §3b: macvlan (the probes come from the host itself, or from the sibling container)
  'macvlan-host-isolation': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'ct1/eth0' },
    top: 'macvlan-isolation',
    from: 'hv',
  },
  'macvlan-private': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'ct1/eth0' },
    top: 'macvlan-isolation',
    from: 'ct2',
  },
  // issue 16 §3: a chain of bridges (vmbr0 ─ fwpr100p0 ⇄ fwln100i0 ─ fwbr100i0 ─ tap100i0)
  'chain-firewall-drop': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/fwln100i0', missing: 'hv/tap100i0' },
    top: 'firewall-drop',
  },
  'chain-stp-blocking': {
    status: 'broken',
    loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/fwpr100p0' },
    top: 'stp-blocking',
  },
  // issue 16 §4: NDP-only breaks, IPv6 only (the fault's family: 6): diagnosed over vm1's address6
  'guest-drops-ns': {
    status: 'broken',
    loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' },
    top: 'firewall-drop',
  },
  'ndp-reply-dropped': {
    status: 'broken',
    loss: { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' },
    top: 'firewall-drop',
  },
};

/** What diagnose must say for a fault on this lab (a variant's guest without an agent: its noAgent). */
export function expectationFor(fault: string, plan: VariantPlan | undefined): Expectation | undefined {
  const want = EXPECT[fault];
  if (!want?.noAgent || guestHasAgent(plan)) return want;
  return { ...want, ...want.noAgent };
}

/**
 * The address a fault is diagnosed at: its target's IPv6 address for a fault
 * that breaks IPv6 only (family 6), else the IPv4 one.
 */
export function faultAddress(fault: Pick<LabFault, 'name' | 'family'>, target: LabTarget): string {
  if (fault.family !== 6) return target.address;
  if (!target.address6)
    throw new Error(`${fault.name} breaks IPv6 only, and its target ${target.name} has no address6`);
  return target.address6;
}

/**
 * "hv/eth0" for hd-<instance>-hv/eth0, as EXPECT names hops. Docker names its
 * containers' namespaces and host veths itself: pid:N becomes "ct", a
 * vethXXXXXXX "veth*".
 */
export function shortHop(h: { netns: string; ifname: string } | null | undefined, topology: string): string | null {
  if (!h) return null;
  const name = `${h.netns.replace(/^hd-[a-z0-9]+-/, '')}/${h.ifname}`;
  return topology === 'docker' ? name.replace(/^pid:\d+\//, 'ct/').replace(/\/veth[0-9a-f]{7}$/, '/veth*') : name;
}

/**
 * shortHop for a lab built as a variant: the hop's name mapped back to the
 * canonical one that EXPECT uses ("hv/ens3" of a variant is "hv/eth0").
 */
export function canonicalHop(
  h: { netns: string; ifname: string } | null | undefined,
  topology: string,
  plan: VariantPlan | undefined,
  at: { end: 'last' | 'missing'; direction: 'to-target' | 'from-target' },
): string | null {
  if (!h) return null;
  const role = h.netns.replace(/^hd-[a-z0-9]+-/, '');
  return shortHop({ netns: h.netns, ifname: canonicalIfname(plan, role, h.ifname, at) }, topology);
}

/** A probe of EXPECT ("tcp:9200@198.51.100.1") in a variant's terms. */
export function variantProbe(probe: string, plan: VariantPlan | undefined): string {
  if (!plan) return probe;
  const m = probe.match(/^(tcp|udp):(\d+)(@.*)?$/);
  if (!m) return probe;
  return `${m[1]}:${plan.ports[m[2]!] ?? m[2]}${m[3] ? translate(plan, 'hv', m[3]) : ''}`;
}
