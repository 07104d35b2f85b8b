import { neutronDevice, NEUTRON_PORTS } from '../topologies/neutron.js';
import { appctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/**
 * br-int's MAC table has vm1's MAC on vm2's port. In the wild it is learned
 * there (a loop, a VM sending with another's MAC) and flaps; the lab makes it
 * lasting with a static entry so that the symptom is deterministic.
 */
export const neutronMacWrongPort: LabFault = {
  name: 'neutron-mac-wrong-port',
  cause: 'mac-wrong-port',
  topology: 'neutron',
  description: "br-int's FDB has vm1's MAC fa:16:3e:00:00:11 on vm2's qvo in VLAN 1 (ovs-appctl fdb/add)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await appctl(lab, 'hv', [
      'fdb/add',
      'br-int',
      neutronDevice('qvo', NEUTRON_PORTS['vm2']!.portId),
      '1',
      'fa:16:3e:00:00:11',
    ]);
  },
};
