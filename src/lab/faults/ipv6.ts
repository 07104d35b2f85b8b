/**
 * Which lab faults also break IPv6 (test/diagnose/ipv6.test.ts diagnoses each
 * of them over the target's address6) and, for every other one, why not.
 * Every fault must have an entry: a new fault says here whether it runs over
 * IPv6 (docs/lab.md, "IPv6").
 */
export const IPV6_FAULTS: Record<string, true | string> = {
  // Layer 2 or family-agnostic state: breaks IPv6 exactly as IPv4.
  'link-down': true,
  'bridge-port-missing': true,
  'stp-blocking': true,
  'mac-conflict': true,
  'device-drops': true,
  'mtu-mismatch': true,
  'service-not-listening': true,
  // Dual-stack misconfigurations: the fault applies the IPv6 twin of its change too.
  'firewall-drop': true,
  'guest-firewall': true,
  'tc-filter': true,
  'guest-no-reply': true,
  'upstream-no-traffic': true,
  'promisc-dependent': true,
  'ip-forward-disabled': true,
  'no-route': true,
  // Not over IPv6, and why.
  'ip-conflict':
    'the second holder must keep announcing the address (IPv4: arping -U); the lab has no tool that sends unsolicited neighbour advertisements repeatedly (arping is IPv4 only, ndisc6 and scapy are not installed), and one NA at address-add time (after DAD, which a second holder passes only with nodad) makes the outcome depend on which NA the client saw last',
  'guest-arp-unresolved':
    'its change is an nft arp-family chain in vm1 (and a permanent IPv4 neighbour entry on the client): the arp family sees only ARP frames (ethertype 0x0806), and NDP is ICMPv6 inside IPv6, so IPv6 to vm1 keeps working; the IPv6 form of the break (the guest drops neighbour solicitations) is the lab fault guest-drops-ns',
  'rp-filter-drop':
    'the kernel has no reverse-path filter for IPv6 (no net.ipv6.conf.*.rp_filter); IPv6 RPF is a firewall rule (ip6tables -m rpfilter, nft fib), i.e. firewall-drop',
  'nat-missing':
    "the published port is IPv4 in the lab (Docker's DNAT for IPv6 needs ip6tables NAT for published ports, which the routed lab does not model)",
  'ovs-flow-drop': true,
  'ovs-port-down': true,
  'neutron-flow-drop': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'neutron-vlan-mismatch': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'neutron-qvo-missing': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'neutron-patch-peer-missing': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'neutron-flow-wrong-port': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'neutron-mac-wrong-port': 'the neutron topology has no IPv6 addresses yet (slow OVS lab, left out)',
  'ovn-acl-drop': 'the ovn topology has no IPv6 addresses yet; the ACL matches ip4 (its IPv6 form would match ip6)',
  'ovn-port-security': 'the ovn topology has no IPv6 addresses yet (port_security lists only the IPv4 address)',
  // The link going down takes 2001:db8::11 with it (keep_addr_on_down=0): a silent guest, resolved
  // from br0's connected prefix (issue 16 §1), with the IPv4 test's loss and cause.
  'vm-guest-nic-down': true,
  'vm-guest-firewall': true,
  'vm-guest-ignores-arp':
    'its change is an nft arp-family chain inside the guest: the arp family sees only ARP, never NDP (ICMPv6), so IPv6 to vm1 keeps working; the IPv6 form of the break is guest-drops-ns (in a namespace guest)',
  'vm-tap-detached': true,
  'vm-guest-mac-mismatch': true,
  'docker-user-drop':
    'the lab dockerd runs without --ipv6 (Debian docker.io 20.10: ip6tables support is experimental): the docker topology is IPv4 only',
  'docker-dnat-removed': 'the docker topology is IPv4 only (see docker-user-drop), and so are its published ports',
  'docker-not-listening': 'the docker topology is IPv4 only (see docker-user-drop)',
  'guest-drops-arp':
    'its rule is in the nft arp family, which never sees NDP: its IPv6 form is the lab fault guest-drops-ns (nft ip6 icmpv6 type nd-neighbor-solicit drop)',
  'guest-arp-ignore':
    'arp_ignore is an IPv4 sysctl; IPv6 has no equivalent (a guest answers NS for every address it holds)',
  'arp-reply-dropped':
    "its ebtables rule matches -p ARP --arp-op Reply, which never matches NDP: its IPv6 form is the lab fault ndp-reply-dropped (a bridge rule dropping the guest's neighbour advertisements)",
  'chain-firewall-drop': true,
  'chain-stp-blocking': true,
  // IPv6 only (family 6): NDP-only breaks, diagnosed over IPv6 by every fault test.
  'guest-drops-ns': true,
  'ndp-reply-dropped': true,
  'macvlan-host-isolation':
    "probed from the host itself (the symptom's from), which this list's test does not do; macvlan-isolation over IPv6 from the host is family-agnostic (the macvlan driver never hands a frame from the lower device to its children)",
  'macvlan-private':
    "probed from ct2 (the symptom's from), which this list's test does not do; private mode drops between children whatever the family",
  'docker-promisc':
    'the docker topology is IPv4 only; the same stale-gateway-MAC fault runs over IPv6 as promisc-dependent in the routed lab',
};
