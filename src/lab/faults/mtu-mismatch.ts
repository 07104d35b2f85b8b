import type { LabFault } from '../types.js';

/** vm1's NIC has a smaller MTU than its backend: full-size frames are dropped by the veth (is_skb_forwardable). */
export const mtuMismatch: LabFault = {
  name: 'mtu-mismatch',
  cause: 'mtu-mismatch',
  topology: 'bridged',
  description: "vm1's eth0 has MTU 1400 behind a 1500-byte path: 1500-byte packets to vm1 are dropped",
  target: 'vm1',
  symptom: { kind: 'large-ping-fails', target: 'vm1', size: 1472 },
  async apply(lab) {
    await lab.run('vm1', ['ip', 'link', 'set', 'eth0', 'mtu', '1400']);
  },
};
