import type { LabFault } from '../types.js';

/**
 * The client cannot resolve vm1: vm1's own ARP firewall (nft arp family, as
 * arptables-nft writes it) drops every incoming request with a counter, so no
 * IP packet is ever sent and ARP is the only evidence. Unlike
 * `guest-arp-unresolved`, the client has no cached entry for vm1.
 */
export const guestDropsArp: LabFault = {
  name: 'guest-drops-arp',
  cause: 'firewall-drop',
  topology: 'bridged',
  description:
    "vm1's nft arp input drops ARP requests (counter); the client has no entry for vm1: only ARP ever reaches vm1",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.host.run(['nft', '-f', '-'], {
      netns: lab.ns('vm1'),
      input: [
        'table arp hd_guest {',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    arp operation request counter drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    });
  },
};
