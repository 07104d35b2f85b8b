import type { LabFault } from '../types.js';

/**
 * The NDP twin of `arp-reply-dropped`, and IPv6 only: a bridge-family nft rule
 * on the hypervisor (as a MAC/NDP anti-spoofing filter gone wrong would) drops
 * the neighbour advertisements sent from vm1's MAC. vm1 answers the client's
 * solicitations, the answers are seen on vnet0 and never on the uplink, and
 * the client, which has no IPv6 neighbour entry for vm1, never sends IPv6.
 */
export const ndpReplyDropped: LabFault = {
  name: 'ndp-reply-dropped',
  cause: 'firewall-drop',
  topology: 'bridged',
  family: 6,
  description:
    "hypervisor nft bridge forward drops neighbour advertisements from vm1's MAC (ether saddr 52:54:00:00:00:11 icmpv6 type nd-neighbor-advert, counter; IPv6 only)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1', family: 6 },
  async apply(lab) {
    await lab.run('client', ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.run('hv', ['nft', '-f', '-'], {
      input: [
        'table bridge hd_nd {',
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        '    ether saddr 52:54:00:00:00:11 icmpv6 type nd-neighbor-advert counter drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    });
  },
};
