import { nbctlApplied } from '../ovn.js';
import type { LabFault } from '../types.js';

/** vm1's logical port allows another MAC than the one its NIC has: OVN drops everything it sends. */
export const ovnPortSecurity: LabFault = {
  name: 'ovn-port-security',
  cause: 'ovn-port-security',
  topology: 'ovn',
  description: "port_security of lport vm1 is 02:00:00:0a:00:99 192.0.2.11; vm1's NIC has 02:00:00:0a:00:11",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await nbctlApplied(lab, 'hv', ['lsp-set-port-security', 'vm1', '02:00:00:0a:00:99 192.0.2.11']);
  },
};
