import { vmGuestExec } from '../topologies/vm.js';
import type { LabFault } from '../types.js';
import { macFixRuleset } from './promisc-dependent.js';

/**
 * Seed 001 in a real guest: vm1's NIC was given another MAC inside the guest
 * (52:54:00:00:00:99), while the client still sends to the MAC of the domain
 * XML (a permanent neighbour entry, as a router would hold it). The bridge
 * floods those frames to vnet0, and QEMU's virtio-net receive filter drops
 * them: they are not for the NIC's MAC. A rule inside the guest (netdev
 * ingress, as in seed 001) would accept the old MAC, but it only sees frames
 * while the NIC is promiscuous. So vm1 answers exactly while a tcpdump
 * without -p runs in the guest.
 */
export const VM_GUEST_NEW_MAC = '52:54:00:00:00:99';

export const vmGuestMacMismatch: LabFault = {
  name: 'vm-guest-mac-mismatch',
  cause: 'guest-mac-mismatch',
  topology: 'vm',
  description: `vm1's eth0 has MAC ${VM_GUEST_NEW_MAC} inside the guest, the client sends to the XML's 52:54:00:00:00:11: works only while the guest NIC is promiscuous`,
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('client', [
      'ip',
      'neigh',
      'replace',
      '192.0.2.11',
      'lladdr',
      '52:54:00:00:00:11',
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    await lab.run('client', [
      'ip',
      '-6',
      'neigh',
      'replace',
      '2001:db8::11',
      'lladdr',
      '52:54:00:00:00:11',
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    await vmGuestExec(lab, ['ip', 'link', 'set', 'dev', 'eth0', 'address', VM_GUEST_NEW_MAC]);
    await vmGuestExec(lab, ['nft', '-f', '-'], macFixRuleset('eth0', '52:54:00:00:00:11'));
  },
};
