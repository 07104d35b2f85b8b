import type { LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * A KVM/libvirt host with a Linux bridge: the uplink eth0 is enslaved to br0,
 * br0 holds the host address, and each guest's eth0 is the peer of a
 * libvirt-style backend vnetN on br0 (the tap of a real guest).
 *
 *   client eth0 ── eth0 [hv: br0 192.0.2.1] vnet0 ── eth0 vm1 192.0.2.11
 *                                           vnet1 ── eth0 vm2 192.0.2.12
 */
export const bridged: LabTopology = {
  name: 'bridged',
  description: 'KVM-style host: uplink and guests vnet0/vnet1 on Linux bridge br0 (192.0.2.0/24)',
  roles: ['client', 'hv', 'vm1', 'vm2'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '192.0.2.1' },
  targets: [
    {
      name: 'vm1',
      role: 'vm1',
      address: '192.0.2.11',
      address6: '2001:db8::11',
      mac: '52:54:00:00:00:11',
      backend: 'vnet0',
      port: 80,
    },
    {
      name: 'vm2',
      role: 'vm2',
      address: '192.0.2.12',
      address6: '2001:db8::12',
      mac: '52:54:00:00:00:12',
      backend: 'vnet1',
      port: 80,
    },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    // libvirt hosts run br_netfilter: bridged IPv4 traverses iptables FORWARD.
    // (bridged IPv6 traverses ip6tables likewise: bridge-nf-call-ip6tables, set too so as not to rely on the default.)
    await lab.run('hv', [
      'sysctl',
      '-q',
      '-w',
      'net.bridge.bridge-nf-call-iptables=1',
      'net.bridge.bridge-nf-call-ip6tables=1',
    ]);
    await lab.run('hv', ['ip', 'link', 'add', 'br0', 'address', '02:00:00:00:00:01', 'type', 'bridge']);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await lab.run('hv', ['ip', 'link', 'set', 'eth0', 'master', 'br0']);
    for (const [i, t] of this.targets.entries()) {
      await vethPair(
        lab,
        { role: 'hv', ifname: t.backend, mac: `fe:54:00:00:00:1${i + 1}` },
        { role: t.role, ifname: 'eth0', mac: t.mac },
      );
      await lab.run('hv', ['ip', 'link', 'set', t.backend, 'master', 'br0']);
    }
    await Promise.all([
      up(lab, 'hv', 'br0'),
      up(lab, 'hv', 'eth0'),
      ...this.targets.map((t) => up(lab, 'hv', t.backend)),
    ]);
    await addAddress(lab, 'hv', 'br0', '192.0.2.1/24');
    await addAddress(lab, 'hv', 'br0', '2001:db8::1/64');
    await up(lab, 'client', 'eth0');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8::100/64');
    // The client is the hypervisor's upstream router.
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'br0']);
    for (const t of this.targets) {
      await up(lab, t.role, 'eth0');
      await addAddress(lab, t.role, 'eth0', `${t.address}/24`);
      await addAddress(lab, t.role, 'eth0', `${t.address6}/64`);
      await lab.run(t.role, ['ip', 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0']);
    }
    await Promise.all(this.targets.map((t) => startService(lab, t.role, t.address, t.port, t.address6)));
  },
};
