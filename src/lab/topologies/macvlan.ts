import type { LabBuilder, LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

export const MACVLAN_HOST = { address: '198.51.100.1', address6: '2001:db8:5::1' };

/**
 * A Docker host with a macvlan network (`docker network create -d macvlan
 * -o parent=eth0`): each container's eth0 is a bridge-mode macvlan of the
 * host's uplink eth0, moved into the container's namespace, on the uplink's
 * own subnet, with no bridge anywhere. The host reaches its containers the
 * documented way: its address is on mac0, a bridge-mode macvlan of eth0 too
 * (with it on eth0 the host could not reach them: `macvlan-host-isolation`).
 *
 *   client eth0 198.51.100.100 ── eth0 [hv] ≈ mac0 198.51.100.1 (host)
 *                                           ≈ eth0 ct1 198.51.100.11 (02:42:c6:33:64:0b) tcp/80
 *                                           ≈ eth0 ct2 198.51.100.12 (02:42:c6:33:64:0c) tcp/80
 */
export const macvlan: LabTopology = {
  name: 'macvlan',
  description:
    'Docker-style macvlan network: ct1/ct2 are bridge-mode macvlans of the host uplink eth0 (198.51.100.0/24), the host on mac0',
  roles: ['client', 'hv', 'ct1', 'ct2'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: MACVLAN_HOST.address },
  targets: [
    {
      name: 'ct1',
      role: 'ct1',
      address: '198.51.100.11',
      address6: '2001:db8:5::11',
      mac: '02:42:c6:33:64:0b',
      backend: 'eth0',
      port: 80,
    },
    {
      name: 'ct2',
      role: 'ct2',
      address: '198.51.100.12',
      address6: '2001:db8:5::12',
      mac: '02:42:c6:33:64:0c',
      backend: 'eth0',
      port: 80,
    },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:51:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:51:01' },
    );
    await up(lab, 'hv', 'eth0');
    await up(lab, 'client', 'eth0');
    await addAddress(lab, 'client', 'eth0', '198.51.100.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8:5::fe/64');
    await macvlanChild(lab, 'hv', 'mac0', '02:00:00:00:51:02');
    await addAddress(lab, 'hv', 'mac0', `${MACVLAN_HOST.address}/24`);
    await addAddress(lab, 'hv', 'mac0', `${MACVLAN_HOST.address6}/64`);
    // The client is the host's upstream router, and the containers' gateway (Docker's --gateway).
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '198.51.100.100', 'dev', 'mac0']);
    for (const t of this.targets) {
      await macvlanChild(lab, t.role, 'eth0', t.mac);
      await addAddress(lab, t.role, 'eth0', `${t.address}/24`);
      await addAddress(lab, t.role, 'eth0', `${t.address6}/64`);
      await lab.run(t.role, ['ip', 'route', 'add', 'default', 'via', '198.51.100.100', 'dev', 'eth0']);
    }
    await Promise.all(this.targets.map((t) => startService(lab, t.role, t.address, t.port, t.address6)));
  },
};

/** A bridge-mode macvlan of hv's eth0, made directly in the role's namespace (as Docker moves it there). */
async function macvlanChild(lab: LabBuilder, role: string, ifname: string, mac: string): Promise<void> {
  // The lower device is named in hv's terms, the child in its own role's (a variant names them apart).
  await lab.host.run(
    [
      'ip',
      'link',
      'add',
      'link',
      lab.real('hv', 'eth0'),
      'name',
      lab.real(role, ifname),
      'address',
      lab.real(role, mac),
      'netns',
      lab.ns(role),
      'type',
      'macvlan',
      'mode',
      'bridge',
    ],
    { netns: lab.ns('hv') },
  );
  await up(lab, role, ifname);
}
