import type { LabFault } from '../types.js';

export const ipForwardDisabled: LabFault = {
  name: 'ip-forward-disabled',
  cause: 'ip-forward-disabled',
  topology: 'routed',
  description:
    'net.ipv4.ip_forward=0 and net.ipv6.conf.all.forwarding=0 on the Docker host: nothing is routed to or from docker0',
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1' },
  async apply(lab) {
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.forwarding=0']);
  },
};
