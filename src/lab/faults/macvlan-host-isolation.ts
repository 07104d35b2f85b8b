import type { LabFault } from '../types.js';
import { MACVLAN_HOST } from '../topologies/macvlan.js';

/**
 * The host's address is on its uplink eth0 itself, not on a macvlan of it
 * (the mac0 shim is gone, as after a reboot that did not recreate it): the
 * host cannot reach its macvlan containers, by design of macvlan. The client
 * still can.
 */
export const macvlanHostIsolation: LabFault = {
  name: 'macvlan-host-isolation',
  cause: 'macvlan-isolation',
  topology: 'macvlan',
  description:
    'the host address is on eth0 itself (mac0 shim deleted): the host cannot reach ct1, a macvlan of eth0 (by design)',
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1', from: 'hv' },
  async apply(lab) {
    await lab.run('hv', ['ip', 'link', 'del', 'mac0']);
    await lab.run('hv', ['ip', 'addr', 'add', `${MACVLAN_HOST.address}/24`, 'dev', 'eth0']);
    await lab.run('hv', ['ip', 'addr', 'add', `${MACVLAN_HOST.address6}/64`, 'dev', 'eth0', 'nodad']);
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '198.51.100.100', 'dev', 'eth0']);
  },
};
