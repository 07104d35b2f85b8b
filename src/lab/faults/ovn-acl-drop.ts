import { nbctlApplied } from '../ovn.js';
import type { LabFault } from '../types.js';

/** An OVN ACL that drops what goes to vm1 (a security group rule gone wrong). */
export const ovnAclDrop: LabFault = {
  name: 'ovn-acl-drop',
  cause: 'ovn-acl-drop',
  topology: 'ovn',
  description: 'ACL on ls1: to-lport priority 1001 \'outport == "vm1" && ip4\' drop',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await nbctlApplied(lab, 'hv', ['acl-add', 'ls1', 'to-lport', '1001', 'outport == "vm1" && ip4', 'drop']);
  },
};
