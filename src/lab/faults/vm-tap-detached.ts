import type { LabFault } from '../types.js';

/** libvirt's tap for vm1 is up but no longer a port of br0 (as after a bridge restart libvirt did not see). */
export const vmTapDetached: LabFault = {
  name: 'vm-tap-detached',
  cause: 'bridge-port-missing',
  topology: 'vm',
  description: "vm1's tap vnet0 is up but not enslaved to br0 (ip link set vnet0 nomaster)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['ip', 'link', 'set', 'vnet0', 'nomaster']);
  },
};
