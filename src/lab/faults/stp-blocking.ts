import type { LabFault } from '../types.js';

/**
 * The bridge port of vm1 is not forwarding. With STP off the kernel lets
 * user space set a port to disabled (BR_STATE_DISABLED sticks; listening,
 * learning and blocking are reset to forwarding by br_port_state_selection).
 */
export const stpBlocking: LabFault = {
  name: 'stp-blocking',
  cause: 'stp-blocking',
  topology: 'bridged',
  description: 'bridge port vnet0 put in STP state disabled (bridge link set dev vnet0 state 0)',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['bridge', 'link', 'set', 'dev', 'vnet0', 'state', '0']);
  },
};
