import { vmGuestExec } from '../topologies/vm.js';
import type { LabFault } from '../types.js';

/** The guest's own NIC is administratively down, set from inside through the guest agent. */
export const vmGuestNicDown: LabFault = {
  name: 'vm-guest-nic-down',
  cause: 'guest-nic-down',
  topology: 'vm',
  description:
    "vm1's eth0 is down inside the guest (ip link set eth0 down, through the guest agent); its tap vnet0 stays up",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await vmGuestExec(lab, ['ip', 'link', 'set', 'eth0', 'down']);
  },
};
