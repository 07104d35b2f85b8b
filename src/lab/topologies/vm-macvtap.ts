import type { LabTarget, LabTopology } from '../types.js';
import { addAddress, createNamespaces, up, vethPair } from './common.js';
import { guestImage, startGuest } from './vm.js';

const VM1: LabTarget = {
  name: 'vm1',
  role: 'hv',
  address: '192.0.2.11',
  address6: '2001:db8::11',
  mac: '52:54:00:00:00:11',
  backend: 'macvtap0',
  port: 80,
};

/**
 * The vm lab's guest on a libvirt direct interface (`<interface
 * type='direct'><source dev='eth0' mode='bridge'/>`): libvirt makes a macvtap
 * of the uplink eth0, which keeps the host's address, and QEMU opens its
 * /dev/tapN. No bridge: the client reaches the guest, the host cannot (by
 * design of macvtap: the test diagnoses it from the host as macvlan-isolation).
 * A variant's plain QEMU guest gets the same macvtap from the lab, as fd 3.
 *
 *   client eth0 192.0.2.100 ── eth0 192.0.2.1 [hv] ≈ macvtap0 ══ virtio eth0 [vm1 192.0.2.11, tcp/80]
 */
export const vmMacvtap: LabTopology = {
  name: 'vm-macvtap',
  description:
    'libvirt/QEMU guest vm1 on a direct (macvtap, mode bridge) interface of the uplink eth0, no bridge (192.0.2.0/24)',
  roles: ['client', 'hv'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '192.0.2.1' },
  targets: [VM1],
  suggestedTarget: 'vm1',
  async build(lab) {
    const image = guestImage();
    await createNamespaces(lab, this.roles);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await Promise.all([up(lab, 'hv', 'eth0'), up(lab, 'client', 'eth0')]);
    await addAddress(lab, 'hv', 'eth0', '192.0.2.1/24');
    await addAddress(lab, 'hv', 'eth0', '2001:db8::1/64');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8::100/64');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'eth0']);
    // libvirt names the macvtap itself (macvtap0, its own prefix) unless a variant names it.
    await startGuest(lab, image, { type: 'direct', dev: 'eth0', backend: VM1.backend, gateway: '192.0.2.100' });
  },
};
