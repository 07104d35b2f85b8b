import type { LabFault } from '../types.js';

/** A pve-firewall-style physdev rule on the inner firewall bridge drops what is bridged out to vm100's tap. */
export const chainFirewallDrop: LabFault = {
  name: 'chain-firewall-drop',
  cause: 'firewall-drop',
  topology: 'chain',
  description: 'iptables FORWARD drops what fwbr100i0 bridges out to tap100i0 (-m physdev --physdev-out tap100i0)',
  target: 'vm100',
  symptom: { kind: 'ping-fails', target: 'vm100' },
  async apply(lab) {
    await lab.run('hv', ['iptables', '-I', 'FORWARD', '-m', 'physdev', '--physdev-out', 'tap100i0', '-j', 'DROP']);
    // pve-firewall writes its rules for both families.
    await lab.run('hv', ['ip6tables', '-I', 'FORWARD', '-m', 'physdev', '--physdev-out', 'tap100i0', '-j', 'DROP']);
  },
};
