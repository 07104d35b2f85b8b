import type { LabFault } from '../types.js';

/** The upstream (the client, acting as router) has a blackhole route: nothing reaches the host. */
export const upstreamNoTraffic: LabFault = {
  name: 'upstream-no-traffic',
  cause: 'upstream-no-traffic',
  topology: 'bridged',
  description:
    'the upstream router has blackhole routes for 192.0.2.11 and 2001:db8::11: nothing reaches the hypervisor',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', ['ip', 'route', 'add', 'blackhole', '192.0.2.11/32']);
    await lab.run('client', ['ip', '-6', 'route', 'add', 'blackhole', '2001:db8::11/128']);
  },
};
