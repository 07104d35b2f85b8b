import type { LabFault } from '../types.js';

export const bridgePortMissing: LabFault = {
  name: 'bridge-port-missing',
  cause: 'bridge-port-missing',
  topology: 'bridged',
  description: "vm1's backend vnet0 is up but not enslaved to br0 (ip link set vnet0 nomaster)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['ip', 'link', 'set', 'vnet0', 'nomaster']);
  },
};
