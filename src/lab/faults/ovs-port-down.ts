import { ovsDir } from '../ovs.js';
import type { LabFault } from '../types.js';

/** vm1's port on br-int administratively down in OpenFlow (ovs-ofctl mod-port ... down). */
export const ovsPortDown: LabFault = {
  name: 'ovs-port-down',
  cause: 'link-down',
  topology: 'ovs',
  description: "vm1's port vnet0 on br-int is administratively down in OVS (ovs-ofctl mod-port br-int vnet0 down)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', [
      'ovs-ofctl',
      'mod-port',
      `unix:${ovsDir(lab.ns('hv'), lab.daemonDir)}/br-int.mgmt`,
      'vnet0',
      'down',
    ]);
  },
};
