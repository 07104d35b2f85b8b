import type { LabFault } from '../types.js';

/** An iptables FORWARD rule on the hypervisor drops bridged traffic to vm1 (libvirt nwfilter / hybrid firewall style). */
export const firewallDrop: LabFault = {
  name: 'firewall-drop',
  cause: 'firewall-drop',
  topology: 'bridged',
  description: 'hypervisor iptables and ip6tables FORWARD drop bridged traffic to vm1 (-m physdev --physdev-out vnet0)',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', [
      'iptables',
      '-I',
      'FORWARD',
      '-m',
      'physdev',
      '--physdev-out',
      'vnet0',
      '-d',
      '192.0.2.11/32',
      '-j',
      'DROP',
    ]);
    // Dual stack, as an operator's rule set usually is: the same rule for vm1's IPv6 address.
    await lab.run('hv', [
      'ip6tables',
      '-I',
      'FORWARD',
      '-m',
      'physdev',
      '--physdev-out',
      'vnet0',
      '-d',
      '2001:db8::11/128',
      '-j',
      'DROP',
    ]);
  },
};
