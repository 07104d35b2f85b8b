import type { LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * A Proxmox VE host with its firewall on for guest 100: the guest's tap is a
 * port of a per-NIC firewall bridge fwbr100i0, joined to the main bridge
 * vmbr0 by the veth pair fwpr100p0 (on vmbr0) ⇄ fwln100i0 (on fwbr100i0), as
 * qemu-server's network script builds it; bridged IPv4 traverses iptables
 * (bridge-nf-call-iptables=1), where pve-firewall's physdev rules act. The
 * guest's NIC is a veth standing in for the tap, as in the bridged lab.
 *
 *   client eth0 203.0.113.254 ── eth0 [hv: vmbr0 203.0.113.1] fwpr100p0 ⇄ fwln100i0 ─ fwbr100i0
 *        ─ tap100i0 ⇄ eth0 vm100 203.0.113.100 (bc:24:11:00:01:00) tcp/80
 */
export const chain: LabTopology = {
  name: 'chain',
  description:
    'Proxmox-style host: vm100 behind two bridges, vmbr0 ─ fwpr100p0 ⇄ fwln100i0 ─ fwbr100i0 ─ tap100i0 (203.0.113.0/24)',
  roles: ['client', 'hv', 'vm100'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '203.0.113.1' },
  targets: [
    {
      name: 'vm100',
      role: 'vm100',
      address: '203.0.113.100',
      address6: '2001:db8:113::100',
      mac: 'bc:24:11:00:01:00',
      backend: 'tap100i0',
      port: 80,
    },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    await lab.run('hv', [
      'sysctl',
      '-q',
      '-w',
      'net.bridge.bridge-nf-call-iptables=1',
      'net.bridge.bridge-nf-call-ip6tables=1',
    ]);
    // vmbr0 keeps the uplink's MAC, as ifupdown2 gives a bridge its first port's.
    await lab.run('hv', ['ip', 'link', 'add', 'vmbr0', 'address', 'bc:24:11:00:00:01', 'type', 'bridge']);
    await lab.run('hv', ['ip', 'link', 'add', 'fwbr100i0', 'address', 'bc:24:11:00:01:02', 'type', 'bridge']);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:71:fe' },
      { role: 'hv', ifname: 'eth0', mac: 'bc:24:11:00:00:01' },
    );
    await vethPair(
      lab,
      { role: 'hv', ifname: 'fwpr100p0', mac: 'bc:24:11:00:01:01' },
      { role: 'hv', ifname: 'fwln100i0', mac: 'bc:24:11:00:01:02' },
    );
    await vethPair(
      lab,
      { role: 'hv', ifname: 'tap100i0', mac: 'bc:24:11:00:01:03' },
      { role: 'vm100', ifname: 'eth0', mac: this.targets[0]!.mac },
    );
    for (const [port, bridge] of [
      ['eth0', 'vmbr0'],
      ['fwpr100p0', 'vmbr0'],
      ['fwln100i0', 'fwbr100i0'],
      ['tap100i0', 'fwbr100i0'],
    ] as const) {
      await lab.run('hv', ['ip', 'link', 'set', port, 'master', bridge]);
    }
    await Promise.all(
      ['vmbr0', 'fwbr100i0', 'eth0', 'fwpr100p0', 'fwln100i0', 'tap100i0'].map((d) => up(lab, 'hv', d)),
    );
    await addAddress(lab, 'hv', 'vmbr0', '203.0.113.1/24');
    await addAddress(lab, 'hv', 'vmbr0', '2001:db8:113::1/64');
    await up(lab, 'client', 'eth0');
    await addAddress(lab, 'client', 'eth0', '203.0.113.254/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8:113::254/64');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '203.0.113.254', 'dev', 'vmbr0']);
    const t = this.targets[0]!;
    await up(lab, t.role, 'eth0');
    await addAddress(lab, t.role, 'eth0', `${t.address}/24`);
    await addAddress(lab, t.role, 'eth0', `${t.address6}/64`);
    await lab.run(t.role, ['ip', 'route', 'add', 'default', 'via', '203.0.113.1', 'dev', 'eth0']);
    await startService(lab, t.role, t.address, t.port, t.address6);
  },
};
