import type { LabFault } from '../types.js';

/**
 * The hypervisor's bridge firewall drops vm1's ARP replies (an ebtables rule
 * on vm1's MAC, as a MAC/ARP anti-spoofing filter gone wrong would): vm1
 * answers, the answer is seen on vnet0 and never on the uplink, and the
 * client, which has no entry for vm1, never sends IP.
 */
export const arpReplyDropped: LabFault = {
  name: 'arp-reply-dropped',
  cause: 'firewall-drop',
  topology: 'bridged',
  description:
    "hypervisor ebtables FORWARD drops ARP replies from vm1's MAC (-p ARP --arp-op Reply -s 52:54:00:00:00:11)",
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.run('hv', [
      'ebtables',
      '-A',
      'FORWARD',
      '-p',
      'ARP',
      '--arp-op',
      'Reply',
      '-s',
      '52:54:00:00:00:11',
      '-j',
      'DROP',
    ]);
  },
};
