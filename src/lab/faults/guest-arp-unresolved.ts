import type { LabFault } from '../types.js';

/**
 * Seed 000: requests reach the guest, but the guest never takes up ARP
 * answers, so it only asks who-has for the peer and never replies. The
 * client plays the upstream router with a cached (permanent) entry for vm1.
 */
export const guestArpUnresolved: LabFault = {
  name: 'guest-arp-unresolved',
  cause: 'guest-arp-unresolved',
  topology: 'bridged',
  description: 'vm1 drops every incoming ARP (nft arp family): it keeps asking who-has and never replies',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', [
      'ip',
      'neigh',
      'replace',
      '192.0.2.11',
      'lladdr',
      '52:54:00:00:00:11',
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    await lab.run('vm1', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.run('vm1', ['nft', '-f', '-'], {
      input: [
        'table arp hd_guest {',
        '  chain input {',
        '    type filter hook input priority 0; policy drop;',
        '  }',
        '}',
        '',
      ].join('\n'),
    });
  },
};
