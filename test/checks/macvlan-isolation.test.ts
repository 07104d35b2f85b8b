import assert from 'node:assert/strict';
import { test } from 'node:test';
import { macvlanIsolation } from '../../src/checks/macvlan-isolation.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { Interface, Namespace } from '../../src/model/topology.js';
import type { Cause, ProbeReport } from '../../src/model/report.js';

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
const addr = (local: string) => [{ family: 'inet' as const, local, prefixlen: 24 }];
const ns = (id: string, interfaces: Interface[], routes: Namespace['routes'] = []): Namespace => ({
  id,
  name: id,
  isRoot: id === 'host',
  collected: true,
  interfaces,
  bridges: [],
  routes,
  neighbours: [],
});

/** host eth0 (lower) with children: guest g1 (the target), g2, and optionally the host's address on eth0 itself. */
function ctx(opts: {
  targetMode: string;
  siblingMode: string;
  kind?: Interface['kind'];
  source: string;
  answered?: number;
}): CheckContext {
  const kind = opts.kind ?? 'macvlan';
  const host = ns(
    'host',
    [iface(2, 'eth0', 'physical', { addresses: addr('198.51.100.1') })],
    [{ family: 'inet', dst: '198.51.100.0/24', dev: 'eth0', table: 'main', type: 'unicast' }],
  );
  const lower = { netns: 'host', ifindex: 2, ifname: 'eth0' };
  const g1 = ns('g1', [iface(5, 'eth0', kind, { lower, mode: opts.targetMode, addresses: addr('198.51.100.11') })]);
  const g2 = ns('g2', [iface(6, 'eth0', kind, { lower, mode: opts.siblingMode, addresses: addr('198.51.100.12') })]);
  const answered = opts.answered ?? 0;
  const probe: ProbeReport = {
    kind: 'icmp',
    address: '198.51.100.11',
    command: 'ping',
    from: 'x',
    sent: 3,
    answered,
    outcome: answered ? 'answered' : 'timeout',
    detail: '',
  };
  return {
    topology: { schemaVersion: 1, host: 'h', collectedAt: '', root: '', namespaces: [host, g1, g2], warnings: [] },
    path: {
      target: { query: '198.51.100.11', type: 'ip', netns: 'g1', ifname: 'eth0', address: '198.51.100.11' },
      hops: [
        {
          netns: 'host',
          ifname: 'eth0',
          kind: 'physical',
          role: 'uplink',
          seesTransit: true,
          isTarget: false,
          via: 'start',
          mtu: 1500,
          addresses: [],
        },
        {
          netns: 'g1',
          ifname: 'eth0',
          kind,
          role: 'guest-nic',
          seesTransit: true,
          isTarget: true,
          via: 'macvlan',
          mtu: 1500,
          addresses: [],
        },
      ],
      complete: true,
      notes: [],
    },
    correlation: { loss: answered ? null : { direction: 'to-target' } },
    probes: [probe],
    targetAddresses: ['198.51.100.11'],
    probesFromOutside: false,
    passive: false,
    sourceAddresses: [opts.source],
  } as unknown as CheckContext;
}

const run = (c: CheckContext) => macvlanIsolation.run(c) as Cause[];

test('macvlan-isolation: the host through its own lower device, at the lower device, with the ways out', () => {
  const [cause] = run(ctx({ targetMode: 'bridge', siblingMode: 'bridge', source: '198.51.100.1' }));
  assert.equal(cause?.id, 'macvlan-isolation');
  assert.deepEqual(cause.device, { netns: 'host', ifname: 'eth0' });
  assert.ok(cause.fix.some((f) => f.startsWith('ip link add mac0 link eth0 type macvlan mode bridge')));
  assert.ok(cause.fix.some((f) => f.includes('Linux bridge')));
});

test('macvlan-isolation: ipvlan children are as unreachable from their host', () => {
  assert.equal(
    run(ctx({ targetMode: 'l2', siblingMode: 'l2', kind: 'ipvlan', source: '198.51.100.1' }))[0]?.id,
    'macvlan-isolation',
  );
});

test('macvlan-isolation: siblings in private mode, or in VEPA (less sure: a hairpinning switch would help)', () => {
  const priv = run(ctx({ targetMode: 'private', siblingMode: 'private', source: '198.51.100.12' }));
  assert.equal(priv[0]?.confidence, 0.96);
  const vepa = run(ctx({ targetMode: 'vepa', siblingMode: 'vepa', source: '198.51.100.12' }));
  assert.equal(vepa[0]?.confidence, 0.85);
  assert.ok(vepa[0].fix.some((f) => /hairpin/.test(f)));
});

test('macvlan-isolation: none between bridge-mode siblings, none from outside, none when the probes were answered', () => {
  assert.deepEqual(run(ctx({ targetMode: 'bridge', siblingMode: 'bridge', source: '198.51.100.12' })), []);
  assert.deepEqual(run(ctx({ targetMode: 'private', siblingMode: 'private', source: '198.51.100.100' })), []);
  assert.deepEqual(run(ctx({ targetMode: 'bridge', siblingMode: 'bridge', source: '198.51.100.1', answered: 3 })), []);
});

test('macvlan-isolation: none for a macvlan inside the guest (its lower device the guest NIC) when the probes come from outside the guest', () => {
  const hv = ns(
    'host',
    [
      iface(2, 'eth0', 'veth', { master: 'br0' }),
      iface(3, 'br0', 'bridge', { addresses: addr('192.0.2.1') }),
      iface(4, 'vnet0', 'veth', { master: 'br0' }),
    ],
    [{ family: 'inet', dst: '192.0.2.0/24', dev: 'br0', table: 'main', type: 'unicast' }],
  );
  const client = ns(
    'client',
    [iface(2, 'eth0', 'veth', { addresses: addr('192.0.2.100') })],
    [{ family: 'inet', dst: '192.0.2.0/24', dev: 'eth0', table: 'main', type: 'unicast' }],
  );
  const vm1 = ns(
    'vm1',
    [
      iface(2, 'ens3', 'veth', { promisc: true }),
      iface(3, 'macvlan0', 'macvlan', {
        mode: 'bridge',
        lower: { netns: 'vm1', ifindex: 2, ifname: 'ens3' },
        addresses: addr('192.0.2.11'),
      }),
    ],
    [{ family: 'inet', dst: '192.0.2.0/24', dev: 'macvlan0', table: 'main', type: 'unicast' }],
  );
  const c = ctx({ targetMode: 'bridge', siblingMode: 'bridge', source: '192.0.2.100' });
  c.topology.namespaces = [hv, client, vm1];
  c.path.target = { query: '192.0.2.11', type: 'ip', netns: 'vm1', ifname: 'macvlan0', address: '192.0.2.11' };
  c.path.hops = [
    {
      netns: 'host',
      ifname: 'eth0',
      kind: 'veth',
      role: 'uplink',
      seesTransit: true,
      isTarget: false,
      via: 'start',
      mtu: 1500,
      addresses: [],
    },
    {
      netns: 'host',
      ifname: 'vnet0',
      kind: 'veth',
      role: 'backend',
      seesTransit: true,
      isTarget: false,
      via: 'bridge',
      mtu: 1500,
      addresses: [],
    },
    {
      netns: 'vm1',
      ifname: 'ens3',
      kind: 'veth',
      role: 'bridge-port',
      seesTransit: true,
      isTarget: false,
      via: 'veth',
      mtu: 1500,
      addresses: [],
    },
    {
      netns: 'vm1',
      ifname: 'macvlan0',
      kind: 'macvlan',
      role: 'guest-nic',
      seesTransit: true,
      isTarget: true,
      via: 'macvlan',
      mtu: 1500,
      addresses: [],
    },
  ];
  assert.deepEqual(run(c), []);
});
