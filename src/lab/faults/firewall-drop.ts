import type { LabFault } from '../types.js';

/** An iptables FORWARD rule on the hypervisor drops bridged traffic to vm1 (libvirt nwfilter / hybrid firewall style). */
export const firewallDrop: LabFault = {
  name: 'firewall-drop',
  cause: 'firewall-drop',
  topology: 'bridged',
  description: 'hypervisor iptables FORWARD drops bridged traffic to vm1 (-m physdev --physdev-out vnet0)',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['iptables', '-I', 'FORWARD', '-m', 'physdev', '--physdev-out', 'vnet0', '-d', '192.0.2.11/32', '-j', 'DROP']);
  },
};
