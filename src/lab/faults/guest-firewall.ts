import type { LabFault } from '../types.js';

/** The guest's own firewall drops what comes in on eth0. */
export const guestFirewall: LabFault = {
  name: 'guest-firewall',
  cause: 'firewall-drop',
  topology: 'bridged',
  description:
    "vm1's own iptables INPUT drops ICMP and TCP from 192.0.2.0/24 on eth0 (ip6tables: echo requests and TCP from 2001:db8::/64)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  // Its rules match -i eth0: behind a bridge inside the guest, INPUT sees the bridge instead, and
  // with a macvlan of eth0 holding the address, frames for it arrive on the macvlan (its rx handler
  // hands them over before IP sees them on eth0).
  variantExcludes: {
    guestBridge: ['br0', 'docker0', 'lxdbr0', 'virbr0'],
    guestMacvlan: ['macvlan0', 'mac0', 'macvlan-shim'],
  },
  async apply(lab) {
    await lab.run('vm1', ['iptables', '-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.0/24', '-p', 'icmp', '-j', 'DROP']);
    await lab.run('vm1', ['iptables', '-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.0/24', '-p', 'tcp', '-j', 'DROP']);
    // The IPv6 twin drops echo requests, not all of ICMPv6: dropping neighbour
    // discovery too would make it an NDP failure, a different fault.
    await lab.run('vm1', [
      'ip6tables',
      '-A',
      'INPUT',
      '-i',
      'eth0',
      '-s',
      '2001:db8::/64',
      '-p',
      'ipv6-icmp',
      '--icmpv6-type',
      'echo-request',
      '-j',
      'DROP',
    ]);
    await lab.run('vm1', ['ip6tables', '-A', 'INPUT', '-i', 'eth0', '-s', '2001:db8::/64', '-p', 'tcp', '-j', 'DROP']);
  },
};
