import { neutronDevice, NEUTRON_PORTS } from '../topologies/neutron.js';
import { ofctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/** A flow on br-int that sends vm1's traffic out of vm2's port. */
export const neutronFlowWrongPort: LabFault = {
  name: 'neutron-flow-wrong-port',
  cause: 'ovs-flow-misdirect',
  topology: 'neutron',
  description: "OpenFlow rule on br-int: priority=100,ip,nw_dst=192.0.2.11 actions=output:<vm2's qvo>",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    const wrong = neutronDevice('qvo', NEUTRON_PORTS['vm2']!.portId);
    await ofctl(lab, 'hv', ['add-flow', 'br-int', `table=0,priority=100,ip,nw_dst=192.0.2.11,actions=output:${wrong}`]);
  },
};
