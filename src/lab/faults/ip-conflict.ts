import type { LabFault } from '../types.js';

/** vm2 also holds vm1's address and announces it: two MACs answer for 192.0.2.11. */
export const ipConflict: LabFault = {
  name: 'ip-conflict',
  cause: 'ip-conflict',
  topology: 'bridged',
  description: "vm2 also holds vm1's address 192.0.2.11 and sends gratuitous ARP for it",
  target: 'vm1',
  symptom: { kind: 'two-macs-answer', target: 'vm1' },
  async apply(lab) {
    await lab.run('vm2', ['ip', 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0']);
    await lab.daemon('vm2', ['arping', '-q', '-U', '-i', 'eth0', '-S', '192.0.2.11', '-W', '0.5', '192.0.2.11']);
  },
};
