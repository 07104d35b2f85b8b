import { ofctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/** A stale OpenFlow drop rule on br-int matching vm1's address (left by a broken agent or a manual test). */
export const neutronFlowDrop: LabFault = {
  name: 'neutron-flow-drop',
  cause: 'ovs-flow-drop',
  topology: 'neutron',
  description: 'OpenFlow rule on br-int: table=0,priority=100,ip,nw_dst=192.0.2.11 actions=drop',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await ofctl(lab, 'hv', ['add-flow', 'br-int', 'table=0,priority=100,ip,nw_dst=192.0.2.11,actions=drop']);
  },
};
