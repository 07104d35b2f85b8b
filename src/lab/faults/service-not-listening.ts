import type { LabFault } from '../types.js';

export const serviceNotListening: LabFault = {
  name: 'service-not-listening',
  cause: 'service-not-listening',
  topology: 'bridged',
  description: "vm1's service on tcp/80 is stopped: SYNs are answered with RST",
  target: 'vm1',
  symptom: { kind: 'tcp-fails', target: 'vm1' },
  async apply(lab) {
    if ((await lab.signal('vm1', 'nc', 'SIGKILL')) === 0) throw new Error('no service process found in vm1');
  },
};
