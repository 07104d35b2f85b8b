import { startOvs, vsctl } from '../ovs.js';
import type { LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * A host whose switching is Open vSwitch (userspace datapath): the uplink is a
 * port of br-ex, which holds the host address on its internal port; the
 * guests hang off br-int; a patch port pair joins the two bridges.
 *
 *   client eth0 ── eth0 [br-ex 192.0.2.1] patch-int ═ patch-ex [br-int] vnet0 ── eth0 vm1 192.0.2.11
 *                                                                        vnet1 ── eth0 vm2 192.0.2.12
 */
export const ovs: LabTopology = {
  name: 'ovs',
  description: 'Open vSwitch host: uplink on br-ex (192.0.2.1), guests on br-int, bridges joined by patch ports',
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
    await startOvs(lab, 'hv');
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    for (const [i, t] of this.targets.entries()) {
      await vethPair(
        lab,
        { role: 'hv', ifname: t.backend, mac: `fe:54:00:00:00:1${i + 1}` },
        { role: t.role, ifname: 'eth0', mac: t.mac },
      );
    }
    await vsctl(lab, 'hv', [
      '--',
      'add-br',
      'br-ex',
      '--',
      'set',
      'bridge',
      'br-ex',
      'datapath_type=netdev',
      'other-config:hwaddr=02:00:00:00:00:01',
      '--',
      'add-br',
      'br-int',
      '--',
      'set',
      'bridge',
      'br-int',
      'datapath_type=netdev',
      '--',
      'add-port',
      'br-ex',
      'eth0',
      '--',
      'add-port',
      'br-ex',
      'patch-int',
      '--',
      'set',
      'interface',
      'patch-int',
      'type=patch',
      'options:peer=patch-ex',
      '--',
      'add-port',
      'br-int',
      'patch-ex',
      '--',
      'set',
      'interface',
      'patch-ex',
      'type=patch',
      'options:peer=patch-int',
      ...this.targets.flatMap((t) => [
        '--',
        'add-port',
        'br-int',
        t.backend,
        '--',
        'set',
        'interface',
        t.backend,
        `external_ids:attached-mac=${t.mac}`,
        `external_ids:vm-id=${t.name}`,
      ]),
    ]);
    // TCP through veths into the userspace datapath needs transmit checksum offload off
    // on the sending ends: the datapath does not complete partial checksums.
    const offload = [
      ['client', 'eth0'],
      ['hv', 'eth0'],
      ...this.targets.flatMap((t) => [
        ['hv', t.backend],
        [t.role, 'eth0'],
      ]),
    ] as Array<[string, string]>;
    await Promise.all(offload.map(([role, ifname]) => lab.run(role, ['ethtool', '-K', ifname, 'tx', 'off'])));
    await Promise.all([
      up(lab, 'hv', 'eth0'),
      up(lab, 'hv', 'br-ex'),
      up(lab, 'hv', 'br-int'),
      ...this.targets.map((t) => up(lab, 'hv', t.backend)),
    ]);
    await addAddress(lab, 'hv', 'br-ex', '192.0.2.1/24');
    await addAddress(lab, 'hv', 'br-ex', '2001:db8::1/64');
    await up(lab, 'client', 'eth0');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8::100/64');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'br-ex']);
    for (const t of this.targets) {
      await up(lab, t.role, 'eth0');
      await addAddress(lab, t.role, 'eth0', `${t.address}/24`);
      await addAddress(lab, t.role, 'eth0', `${t.address6}/64`);
      await lab.run(t.role, ['ip', 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0']);
    }
    await Promise.all(this.targets.map((t) => startService(lab, t.role, t.address, t.port, t.address6)));
  },
};
