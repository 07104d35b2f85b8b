import { vsctl } from '../ovs.js';
import type { LabFault } from '../types.js';

/** br-ex lost its side of the patch pair: int-br-ex on br-int names a peer that does not exist. */
export const neutronPatchPeerMissing: LabFault = {
  name: 'neutron-patch-peer-missing',
  cause: 'bridge-port-missing',
  topology: 'neutron',
  description: 'patch port phy-br-ex deleted from br-ex; int-br-ex on br-int has no peer',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await vsctl(lab, 'hv', ['del-port', 'br-ex', 'phy-br-ex']);
  },
};
