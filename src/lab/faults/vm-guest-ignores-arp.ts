import { vmGuestExec } from '../topologies/vm.js';
import type { LabFault } from '../types.js';

/**
 * Seed 000 in a real guest, as `guest-arp-unresolved` does it in a
 * namespace: the guest drops every incoming ARP (nft arp family), so it keeps
 * asking who-has for the client and never replies; the client (the upstream
 * router) has a permanent entry for vm1, so its requests still reach it.
 */
export const vmGuestIgnoresArp: LabFault = {
  name: 'vm-guest-ignores-arp',
  cause: 'guest-arp-unresolved',
  topology: 'vm',
  description: 'vm1 drops every incoming ARP inside the guest (nft arp family): it asks who-has and never replies',
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
    await vmGuestExec(
      lab,
      ['nft', '-f', '-'],
      [
        'table arp hd_guest {',
        '  chain input {',
        '    type filter hook input priority 0; policy drop;',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    await vmGuestExec(lab, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  },
};
