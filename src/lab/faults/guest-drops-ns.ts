import type { LabFault } from '../types.js';

/**
 * The NDP twin of `guest-drops-arp`, and IPv6 only: vm1's own firewall (nft
 * ip6 family) drops every incoming neighbour solicitation with a counter, and
 * the client has no neighbour entry for vm1's IPv6 address, so no IPv6 packet
 * but the client's solicitations ever reaches vm1. IPv4 (ARP) is untouched.
 */
export const guestDropsNs: LabFault = {
  name: 'guest-drops-ns',
  cause: 'firewall-drop',
  topology: 'bridged',
  family: 6,
  description:
    "vm1's nft ip6 input drops neighbour solicitations (counter); the client has no IPv6 neighbour entry for vm1: only NDP ever reaches vm1 (IPv6 only)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1', family: 6 },
  async apply(lab) {
    await lab.run('client', ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.run('vm1', ['nft', '-f', '-'], {
      input: [
        'table ip6 hd_guest {',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    icmpv6 type nd-neighbor-solicit counter drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    });
  },
};
