import type { LabFault } from '../types.js';

export const linkDown: LabFault = {
  name: 'link-down',
  cause: 'link-down',
  topology: 'bridged',
  description: "vm1's backend vnet0 is administratively down on the hypervisor",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['ip', 'link', 'set', 'vnet0', 'down']);
  },
};
