import type { LabFault } from '../types.js';

/** The guest's own firewall drops what comes in on eth0. */
export const guestFirewall: LabFault = {
  name: 'guest-firewall',
  cause: 'firewall-drop',
  topology: 'bridged',
  description: "vm1's own iptables INPUT drops ICMP and TCP from 192.0.2.0/24 on eth0",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  // Its rules match -i eth0: behind a bridge inside the guest, INPUT sees the bridge instead.
  variantExcludes: { guestBridge: ['br0', 'docker0', 'lxdbr0', 'virbr0'] },
  async apply(lab) {
    await lab.run('vm1', ['iptables', '-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.0/24', '-p', 'icmp', '-j', 'DROP']);
    await lab.run('vm1', ['iptables', '-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.0/24', '-p', 'tcp', '-j', 'DROP']);
  },
};
