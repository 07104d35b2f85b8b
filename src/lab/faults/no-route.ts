import type { LabFault } from '../types.js';

export const noRoute: LabFault = {
  name: 'no-route',
  cause: 'no-route',
  topology: 'routed',
  description: 'the container has no default route: its replies to the client have nowhere to go',
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1' },
  async apply(lab) {
    await lab.run('ct1', ['ip', 'route', 'del', 'default']);
    await lab.run('ct1', ['ip', '-6', 'route', 'del', 'default']);
  },
};
