import type { LabFault } from '../types.js';

/**
 * vm1 answers no ARP request at all (net.ipv4.conf.all.arp_ignore=8,
 * ip-sysctl.rst), and the client has no entry for it: requests reach vm1's
 * NIC and nothing comes back. No firewall is involved: the sysctl is the reason.
 */
export const guestArpIgnore: LabFault = {
  name: 'guest-arp-ignore',
  cause: 'guest-arp-unresolved',
  topology: 'bridged',
  description:
    'vm1 has net.ipv4.conf.all.arp_ignore=8 and the client has no entry for vm1: ARP requests reach vm1, never answered',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await lab.run('vm1', ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=8']);
  },
};
