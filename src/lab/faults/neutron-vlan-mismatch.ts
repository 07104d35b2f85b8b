import { neutronDevice, NEUTRON_PORTS } from '../topologies/neutron.js';
import { vsctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/** vm1's qvo carries local VLAN 2 while its network (and the flows from br-ex) use 1. */
export const neutronVlanMismatch: LabFault = {
  name: 'neutron-vlan-mismatch',
  cause: 'vlan-mismatch',
  topology: 'neutron',
  description:
    "vm1's qvo on br-int has tag 2; its network's local VLAN (other ports, other_config:tag, br-int flows) is 1",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await vsctl(lab, 'hv', ['set', 'Port', neutronDevice('qvo', NEUTRON_PORTS['vm1']!.portId), 'tag=2']);
  },
};
