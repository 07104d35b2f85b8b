import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkLowers } from '../../src/collect/discover.js';
import { networkOf } from '../../src/collect/docker.js';
import { toInterface, type IpLink } from '../../src/collect/iproute.js';
import type { Interface, Namespace, Topology } from '../../src/model/topology.js';
import { lowerChildren } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { learnedPort } from '../../src/path/resolve.js';

const link = (l: Partial<IpLink> & { ifindex: number; ifname: string }): IpLink => ({
  flags: ['BROADCAST', 'UP', 'LOWER_UP'],
  mtu: 1500,
  operstate: 'UP',
  link_type: 'ether',
  ...l,
});
const ns = (id: string, interfaces: Interface[], extra: Partial<Namespace> = {}): Namespace => ({
  id,
  name: id,
  isRoot: false,
  collected: true,
  interfaces,
  bridges: [],
  routes: [],
  neighbours: [],
  ...extra,
});

test('ip -j -d link: a macvlan moved into another namespace keeps its lower device (link_index + link_netnsid) and mode', () => {
  const moved = toInterface(
    link({
      ifindex: 4,
      ifname: 'eth0',
      link_index: 3,
      link_netnsid: 0,
      address: '02:42:c6:33:64:0b',
      linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private', bcqueuelen: 1000 } },
    }),
    [],
    undefined,
    new Map([[0, 'hostns']]),
    'ct1',
  );
  assert.deepEqual(
    [moved.kind, moved.mode, moved.lower],
    ['macvlan', 'private', { netns: 'hostns', link_netnsid: 0, ifindex: 3 }],
  );
  assert.equal(moved.peer, undefined, 'a macvlan is no veth: no peer');
  // Same namespace: iproute2 names the lower device instead.
  const local = toInterface(
    link({
      ifindex: 5,
      ifname: 'macvtap0',
      link: 'eth0',
      linkinfo: { info_kind: 'macvtap', info_data: { mode: 'vepa' } },
    }),
    [],
    undefined,
    new Map(),
    'host',
    (n) => (n === 'eth0' ? 3 : undefined),
  );
  assert.deepEqual(
    [local.kind, local.mode, local.lower],
    ['macvtap', 'vepa', { netns: 'host', ifindex: 3, ifname: 'eth0' }],
  );
});

test('ip -j -d link: an ipvlan keeps its lower device and its mode (l2, l3, l3s)', () => {
  const ipvlan = toInterface(
    link({
      ifindex: 8,
      ifname: 'eth0',
      link_index: 2,
      link_netnsid: 1,
      linkinfo: { info_kind: 'ipvlan', info_data: { mode: 'l3' } },
    }),
    [],
    undefined,
    new Map([[1, null]]),
    'pid:7',
  );
  assert.deepEqual(
    [ipvlan.kind, ipvlan.mode, ipvlan.lower],
    ['ipvlan', 'l3', { netns: null, link_netnsid: 1, ifindex: 2 }],
  );
});

test('linkLowers: a child whose lower is in an unnamed root namespace is joined to the root device of that ifindex', () => {
  const eth0 = toInterface(link({ ifindex: 3, ifname: 'eth0' }), [], undefined, new Map(), 'host');
  const child = toInterface(
    link({
      ifindex: 7,
      ifname: 'eth0',
      link_index: 3,
      link_netnsid: 0,
      linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } },
    }),
    [],
    undefined,
    new Map([[0, null]]),
    'pid:42',
  );
  const namespaces = [ns('host', [eth0], { isRoot: true, name: null }), ns('pid:42', [child], { name: null })];
  linkLowers(namespaces);
  assert.deepEqual([child.lower?.netns, child.lower?.ifname], ['host', 'eth0']);
  assert.deepEqual(
    lowerChildren({ namespaces }, 'host', 3).map((c) => `${c.ns.id}/${c.iface.ifname}`),
    ['pid:42/eth0'],
  );
});

test('path: uplink ≈ macvtap in the root namespace is the backend of a direct attachment', () => {
  const eth0 = toInterface(
    link({ ifindex: 3, ifname: 'eth0' }),
    [{ family: 'inet', local: '198.51.100.1', prefixlen: 24 }],
    undefined,
    new Map(),
    'host',
  );
  const macvtap = toInterface(
    link({
      ifindex: 9,
      ifname: 'macvtap0',
      link: 'eth0',
      address: '52:54:00:aa:00:01',
      linkinfo: { info_kind: 'macvtap', info_data: { mode: 'bridge' } },
    }),
    [],
    undefined,
    new Map(),
    'host',
    () => 3,
  );
  const root = ns('host', [eth0, macvtap], {
    isRoot: true,
    name: null,
    routes: [
      { family: 'inet', dst: 'default', gateway: '198.51.100.254', dev: 'eth0', table: 'main', type: 'unicast' },
    ],
  });
  const topology: Topology = {
    schemaVersion: 1,
    host: 'h',
    collectedAt: '',
    root: '',
    namespaces: [root],
    warnings: [],
  };
  const path = findPath(topology, 'macvtap0');
  assert.deepEqual(
    path.hops.map((h) => `${h.ifname}:${h.role}:${h.via}`),
    ['eth0:uplink:start', 'macvtap0:backend:macvlan'],
  );
  // A guest address known only from a neighbour entry (here on the host's mac0 shim) resolves to the macvtap with its MAC.
  root.interfaces.push(
    toInterface(
      link({
        ifindex: 10,
        ifname: 'mac0',
        link: 'eth0',
        linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } },
      }),
      [],
      undefined,
      new Map(),
      'host',
      () => 3,
    ),
  );
  root.neighbours.push({ dst: '198.51.100.50', dev: 'mac0', lladdr: '52:54:00:aa:00:01', state: ['REACHABLE'] });
  assert.equal(findPath(topology, '198.51.100.50').target.ifname, 'macvtap0');
});

test('learned port on a chain of bridges: followed from vmbr0 through fwpr ⇄ fwln to the tap on fwbr', () => {
  const mk = (ifindex: number, ifname: string, kind: Interface['kind'], extra: Partial<Interface> = {}): Interface => ({
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
  const mac = 'bc:24:11:00:01:00';
  const root = ns(
    'host',
    [
      mk(2, 'eth0', 'physical', { master: 'vmbr0' }),
      mk(3, 'vmbr0', 'bridge'),
      mk(4, 'fwbr100i0', 'bridge'),
      mk(5, 'fwpr100p0', 'veth', { master: 'vmbr0', peer: { netns: 'host', ifindex: 6, ifname: 'fwln100i0' } }),
      mk(6, 'fwln100i0', 'veth', { master: 'fwbr100i0', peer: { netns: 'host', ifindex: 5, ifname: 'fwpr100p0' } }),
      mk(7, 'tap100i0', 'tap', { master: 'fwbr100i0' }),
    ],
    { isRoot: true },
  );
  const bridge = (ifname: string, port: string) => ({
    ifname,
    stp: false,
    stp_state: 0,
    forward_delay: 15,
    vlan_filtering: false,
    ports: [],
    fdb: [{ mac, ifname: port, flags: [] }],
  });
  root.bridges = [bridge('vmbr0', 'fwpr100p0'), bridge('fwbr100i0', 'tap100i0')];
  assert.equal(learnedPort(root, mac)?.ifname, 'tap100i0');
  // The inner bridge has not learned it (yet): the port towards it is as far as the FDB goes.
  root.bridges[1]!.fdb = [];
  assert.equal(learnedPort(root, mac)?.ifname, 'fwpr100p0');
});

test('Docker macvlan/ipvlan networks: the parent device and the mode (macvlan defaults to bridge, ipvlan to l2)', () => {
  const base = {
    Id: 'f00d',
    Scope: 'local',
    EnableIPv6: false,
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: {},
    Labels: {},
    Created: '',
  };
  const mac = networkOf({
    ...base,
    Name: 'pub',
    Driver: 'macvlan',
    Options: { parent: 'eth0' },
    IPAM: { Driver: 'default', Config: [{ Subnet: '198.51.100.0/24', Gateway: '198.51.100.254' }] },
  } as never);
  assert.deepEqual([mac.driver, mac.parent, mac.mode, mac.bridge], ['macvlan', 'eth0', 'bridge', undefined]);
  const ipv = networkOf({
    ...base,
    Name: 'l3',
    Driver: 'ipvlan',
    Options: { parent: 'eno1', ipvlan_mode: 'l3' },
    IPAM: { Driver: 'default', Config: [] },
  } as never);
  assert.deepEqual([ipv.parent, ipv.mode], ['eno1', 'l3']);
});

test('path: a macvlan inside the guest holding its address is the guest NIC; the NIC, its lower device, a port on the way', () => {
  const mk = (ifindex: number, ifname: string, kind: Interface['kind'], extra: Partial<Interface> = {}): Interface => ({
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
  const root = ns(
    'host',
    [
      mk(2, 'eth0', 'veth', { master: 'br0' }),
      mk(3, 'br0', 'bridge', { addresses: [{ family: 'inet', local: '192.0.2.1', prefixlen: 24, scope: 'global' }] }),
      mk(4, 'vnet0', 'veth', { master: 'br0', peer: { netns: 'vm1', ifindex: 2, ifname: 'ens3' } }),
    ],
    { isRoot: true },
  );
  // The guest's NIC is promiscuous: the kernel makes a lower device without a unicast filter so for its children's MACs.
  const vm1 = ns(
    'vm1',
    [
      mk(2, 'ens3', 'veth', {
        address: '06:11:22:33:44:55',
        promisc: true,
        peer: { netns: 'host', ifindex: 4, ifname: 'vnet0' },
      }),
      mk(3, 'macvlan0', 'macvlan', {
        address: '52:54:00:00:00:11',
        mode: 'bridge',
        lower: { netns: 'vm1', ifindex: 2, ifname: 'ens3' },
        addresses: [{ family: 'inet', local: '192.0.2.11', prefixlen: 24, scope: 'global' }],
      }),
    ],
    {
      routes: [
        { family: 'inet', dst: 'default', gateway: '192.0.2.1', dev: 'macvlan0', table: 'main', type: 'unicast' },
        { family: 'inet', dst: '192.0.2.0/24', dev: 'macvlan0', table: 'main', type: 'unicast' },
      ],
    },
  );
  const topology: Topology = {
    schemaVersion: 1,
    host: 'h',
    collectedAt: '',
    root: '',
    namespaces: [root, vm1],
    warnings: [],
  };
  const path = findPath(topology, '192.0.2.11');
  assert.deepEqual(
    path.hops.map((h) => `${h.netns}/${h.ifname}:${h.role}:${h.via}`),
    [
      'host/eth0:uplink:start',
      'host/br0:bridge:bridge',
      'host/vnet0:backend:bridge',
      'vm1/ens3:bridge-port:veth',
      'vm1/macvlan0:guest-nic:macvlan',
    ],
  );
  assert.match(path.hops[3]!.note ?? '', /lower device of macvlan0 \(macvlan mode bridge\)/);
  assert.equal(findPath(topology, '52:54:00:00:00:11').target.ifname, 'macvlan0', "the MAC is the child's");
});
