import { neutronDevice, NEUTRON_PORTS } from '../topologies/neutron.js';
import { vsctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/** vm1's qvo veth exists (qvb is still on qbr) but is no port of br-int: an unplug that half happened. */
export const neutronQvoMissing: LabFault = {
  name: 'neutron-qvo-missing',
  cause: 'bridge-port-missing',
  topology: 'neutron',
  description: "vm1's qvo is not on br-int (ovs-vsctl del-port br-int qvo…); the veth and qbr are still there",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await vsctl(lab, 'hv', ['del-port', 'br-int', neutronDevice('qvo', NEUTRON_PORTS['vm1']!.portId)]);
  },
};
