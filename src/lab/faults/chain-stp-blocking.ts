import type { LabFault } from '../types.js';

/** vmbr0's port towards the firewall bridge (fwpr100p0) is not forwarding: STP state disabled (see stp-blocking). */
export const chainStpBlocking: LabFault = {
  name: 'chain-stp-blocking',
  cause: 'stp-blocking',
  topology: 'chain',
  description:
    "vmbr0's port fwpr100p0 (towards fwbr100i0) in STP state disabled (bridge link set dev fwpr100p0 state 0)",
  target: 'vm100',
  symptom: { kind: 'ping-fails', target: 'vm100' },
  async apply(lab) {
    await lab.run('hv', ['bridge', 'link', 'set', 'dev', 'fwpr100p0', 'state', '0']);
  },
};
