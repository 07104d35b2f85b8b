import { sleep } from '../../util/sleep.js';
import { environmentError } from '../../errors.js';
import { ovsDir, vsctl } from '../ovs.js';
import { nbctl, startOvn } from '../ovn.js';
import type { LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * OVN on one chassis: logical switch ls1 with three logical ports, bound by
 * ovn-controller to OVS ports of br-int through Interface external_ids:iface-id.
 * The client is one more logical port (its veth end on the hypervisor is the
 * uplink eth0), so every packet to a guest crosses OVN's logical pipeline.
 *
 *   client eth0 192.0.2.100 ── eth0 [hd-*-hv br-int, lport client] tapvm1 ── eth0 vm1 192.0.2.11
 *                                                                   tapvm2 ── eth0 vm2 192.0.2.12
 */
export const ovn: LabTopology = {
  name: 'ovn',
  description: 'OVN (northd + ovn-controller) on the private OVS: logical switch ls1, lports client/vm1/vm2 on br-int',
  roles: ['client', 'hv', 'vm1', 'vm2'],
  hypervisor: 'hv',
  client: 'client',
  // The hypervisor has no address of its own on ls1: the client's lport is its uplink.
  uplink: { ifname: 'eth0', address: 'none' },
  targets: [
    { name: 'vm1', role: 'vm1', address: '192.0.2.11', mac: '02:00:00:0a:00:11', backend: 'tapvm1', port: 80 },
    { name: 'vm2', role: 'vm2', address: '192.0.2.12', mac: '02:00:00:0a:00:12', backend: 'tapvm2', port: 80 },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    await startOvn(lab, 'hv');
    const ports: Array<{ lport: string; role: string; hvIf: string; mac: string; address: string }> = [
      { lport: 'client', role: 'client', hvIf: 'eth0', mac: '02:00:00:00:00:64', address: '192.0.2.100' },
      ...this.targets.map((t) => ({ lport: t.name, role: t.role, hvIf: t.backend, mac: t.mac, address: t.address })),
    ];
    await nbctl(lab, 'hv', ['ls-add', 'ls1']);
    for (const [i, p] of ports.entries()) {
      await vethPair(
        lab,
        { role: 'hv', ifname: p.hvIf, mac: `02:00:00:00:0b:1${i}` },
        { role: p.role, ifname: 'eth0', mac: p.mac },
      );
      await Promise.all([
        lab.run('hv', ['ethtool', '-K', p.hvIf, 'tx', 'off']),
        lab.run(p.role, ['ethtool', '-K', 'eth0', 'tx', 'off']),
      ]);
      await up(lab, 'hv', p.hvIf);
      await up(lab, p.role, 'eth0');
      await addAddress(lab, p.role, 'eth0', `${p.address}/24`);
      await nbctl(lab, 'hv', [
        'lsp-add',
        'ls1',
        p.lport,
        '--',
        'lsp-set-addresses',
        p.lport,
        `${p.mac} ${p.address}`,
        '--',
        'lsp-set-port-security',
        p.lport,
        `${p.mac} ${p.address}`,
      ]);
      await vsctl(lab, 'hv', [
        'add-port',
        'br-int',
        p.hvIf,
        '--',
        'set',
        'interface',
        p.hvIf,
        `external_ids:iface-id=${p.lport}`,
      ]);
    }
    // ovn-controller has bound every port once each Interface says ovn-installed.
    let bound = 0;
    for (let i = 0; i < 300 && bound < ports.length; i++) {
      if (i > 0) await sleep(100);
      const r = await lab.run('hv', [
        'ovs-vsctl',
        `--db=unix:${ovsDir(lab.ns('hv'), lab.daemonDir)}/db.sock`,
        '--format=json',
        '--columns=external_ids',
        'list',
        'Interface',
      ]);
      bound = (r.stdout.match(/ovn-installed/g) ?? []).length;
    }
    if (bound < ports.length)
      throw environmentError(
        `ovn-controller bound ${bound} of ${ports.length} ports in 30 s (see ${ovsDir(lab.ns('hv'), lab.daemonDir)}/ovn-controller.log)`,
      );
    await Promise.all(this.targets.map((t) => startService(lab, t.role, t.address, t.port)));
  },
};
