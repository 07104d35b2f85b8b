import { vmGuestExec } from '../topologies/vm.js';
import type { LabFault } from '../types.js';

/**
 * The guest's own firewall drops what comes in on eth0. The lab guest has nft
 * and no iptables, so it is the nftables twin of `guest-firewall`, with
 * counters on the drop rules.
 */
export const vmGuestFirewall: LabFault = {
  name: 'vm-guest-firewall',
  cause: 'firewall-drop',
  topology: 'vm',
  description:
    "vm1's own nftables input chain (table inet hd_guest) drops ICMP and TCP from 192.0.2.0/24 on eth0 (and echo requests and TCP from 2001:db8::/64)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    const ruleset = [
      'table inet hd_guest {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      '    iifname "eth0" ip saddr 192.0.2.0/24 ip protocol icmp counter drop',
      '    iifname "eth0" ip saddr 192.0.2.0/24 ip protocol tcp counter drop',
      // The IPv6 twin in the same inet table; echo requests only, so that neighbour discovery still works.
      '    iifname "eth0" ip6 saddr 2001:db8::/64 icmpv6 type echo-request counter drop',
      '    iifname "eth0" ip6 saddr 2001:db8::/64 meta l4proto tcp counter drop',
      '  }',
      '}',
      '',
    ].join('\n');
    await vmGuestExec(lab, ['nft', '-f', '-'], ruleset);
  },
};
