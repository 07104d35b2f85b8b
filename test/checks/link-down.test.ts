import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkDown } from '../../src/checks/link-down.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { Interface, Namespace } from '../../src/model/topology.js';
import type { Cause } from '../../src/model/report.js';

const iface = (
  ifindex: number,
  ifname: string,
  kind: Interface['kind'],
  extra: Partial<Interface> = {},
): Interface => ({
  ifindex,
  ifname,
  kind,
  mtu: 1500,
  adminUp: true,
  operstate: 'UP',
  carrier: true,
  flags: [],
  promisc: false,
  addresses: [],
  ...extra,
});
const ns = (id: string, interfaces: Interface[]): Namespace => ({
  id,
  name: id,
  isRoot: id === 'hv',
  collected: true,
  interfaces,
  bridges: [],
  routes: [],
  neighbours: [],
});

test('link-down: a macvlan inside the guest without carrier because its lower device (the guest NIC) is down names the lower device', () => {
  const hv = ns('hv', [
    iface(2, 'eth0', 'veth', { master: 'br0' }),
    iface(3, 'br0', 'bridge'),
    iface(4, 'vnet0', 'veth', {
      master: 'br0',
      carrier: false,
      operstate: 'DOWN',
      peer: { netns: 'vm1', ifindex: 2, ifname: 'ens3' },
    }),
  ]);
  const vm1 = ns('vm1', [
    iface(2, 'ens3', 'veth', {
      adminUp: false,
      carrier: false,
      operstate: 'DOWN',
      peer: { netns: 'hv', ifindex: 4, ifname: 'vnet0' },
    }),
    iface(3, 'macvlan0', 'macvlan', {
      carrier: false,
      operstate: 'LOWERLAYERDOWN',
      mode: 'bridge',
      lower: { netns: 'vm1', ifindex: 2, ifname: 'ens3' },
    }),
  ]);
  const hop = (
    netns: string,
    ifname: string,
    kind: Interface['kind'],
    role: string,
    via: string,
    isTarget = false,
  ) => ({ netns, ifname, kind, role, seesTransit: true, isTarget, via, mtu: 1500, addresses: [] });
  const context = {
    topology: { schemaVersion: 1, host: 'h', collectedAt: '', root: '', namespaces: [hv, vm1], warnings: [] },
    path: {
      target: { query: '192.0.2.11', type: 'ip', netns: 'vm1', ifname: 'macvlan0', address: '192.0.2.11' },
      hops: [
        hop('hv', 'eth0', 'veth', 'uplink', 'start'),
        hop('hv', 'br0', 'bridge', 'bridge', 'bridge'),
        hop('hv', 'vnet0', 'veth', 'backend', 'bridge'),
        hop('vm1', 'ens3', 'veth', 'bridge-port', 'veth'),
        hop('vm1', 'macvlan0', 'macvlan', 'guest-nic', 'macvlan', true),
      ],
      complete: true,
      notes: [],
    },
    correlation: {
      loss: {
        direction: 'to-target',
        lastSeenHop: { netns: 'hv', ifname: 'eth0' },
        firstMissingHop: { netns: 'hv', ifname: 'vnet0' },
      },
    },
  } as unknown as CheckContext;
  const causes = linkDown.run(context) as Cause[];
  const child = causes.find((c) => c.device?.ifname === 'macvlan0');
  assert.ok(child, JSON.stringify(causes));
  assert.match(child.summary, /its lower device vm1\/ens3 is down/);
  assert.deepEqual(child.fix, ['ip netns exec vm1 ip link set ens3 up']);
  assert.ok(causes.some((c) => c.device?.ifname === 'ens3' && /administratively down/.test(c.summary)));
});
