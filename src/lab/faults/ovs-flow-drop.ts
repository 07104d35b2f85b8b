import { ovsDir } from '../ovs.js';
import type { LabFault } from '../types.js';

/** An OpenFlow rule on br-int that drops what goes to vm1 (a stale security-group flow). */
export const ovsFlowDrop: LabFault = {
  name: 'ovs-flow-drop',
  cause: 'ovs-flow-drop',
  topology: 'ovs',
  description:
    'OpenFlow rule on br-int: table=0,priority=100,ip,nw_dst=192.0.2.11 actions=drop (and its twin ipv6,ipv6_dst=2001:db8::11)',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    const mgmt = `unix:${ovsDir(lab.ns('hv'), lab.daemonDir)}/br-int.mgmt`;
    await lab.run('hv', ['ovs-ofctl', 'add-flow', mgmt, 'table=0,priority=100,ip,nw_dst=192.0.2.11,actions=drop']);
    // Its IPv6 twin; neighbour discovery goes to the solicited-node multicast address and still passes.
    await lab.run('hv', [
      'ovs-ofctl',
      'add-flow',
      mgmt,
      'table=0,priority=100,ipv6,ipv6_dst=2001:db8::11,actions=drop',
    ]);
  },
};
