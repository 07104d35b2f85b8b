import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Topology } from '../../src/model/topology.js';
import { discoveredTargets, mergeTargets } from '../../src/watch/discovered.js';
import { loadFixture } from '../helpers/fixtures.js';

/** discover: true on topologies recorded from the lab (Docker, Neutron) and a libvirt one written here. */

test('Docker containers: each running one with an address, by its name', () => {
  const t = loadFixture('lab-docker-healthy').context.topology;
  const running = (t.docker?.containers ?? []).filter(
    (c) => c.state === 'running' && c.endpoints.some((e) => e.ipAddress),
  );
  assert.ok(running.length > 0);
  assert.deepEqual(
    discoveredTargets(t, undefined).map((x) => x.target),
    running.map((c) => c.name),
  );
});

test('Neutron ports: each port with an iface-id, by its UUID, seen from the namespace given', () => {
  const t = loadFixture('lab-neutron-healthy').context.topology;
  const found = discoveredTargets(t, 'hd-lab-hv');
  assert.deepEqual(found.map((x) => x.target).sort(), [
    '3f2a9c1e-7b4d-4e2a-9c1f-0a1b2c3d4e5f',
    '8c5d2e4f-1a3b-4c6d-8e9f-a0b1c2d3e4f5',
  ]);
  assert.ok(found.every((x) => x.netns === 'hd-lab-hv' && x.probe === undefined));
});

test('libvirt domains: running ones by name, DOMAIN:MAC for several NICs; a port of a domain is not twice', () => {
  const nic = (mac: string, dev?: string) => ({ type: 'bridge' as const, mac, ...(dev ? { targetDev: dev } : {}) });
  const t = {
    namespaces: [
      {
        ovs: {
          bridges: [
            {
              name: 'br-int',
              ports: [
                {
                  interfaces: [
                    { name: 'tap1', external_ids: { 'iface-id': 'port-of-web', 'attached-mac': '52:54:00:00:00:01' } },
                  ],
                },
              ],
            },
          ],
        },
      },
    ],
    domains: [
      { name: 'web', state: 'running', interfaces: [nic('52:54:00:00:00:01', 'vnet0')] },
      {
        name: 'db',
        state: 'running',
        interfaces: [nic('52:54:00:00:00:02', 'vnet1'), nic('52:54:00:00:00:03', 'vnet2')],
      },
      { name: 'old', state: 'shut off', interfaces: [nic('52:54:00:00:00:04')] },
    ],
  } as unknown as Topology;
  assert.deepEqual(
    discoveredTargets(t, undefined).map((x) => x.name),
    ['web', 'db:52:54:00:00:00:02', 'db:52:54:00:00:00:03'],
  );
  // A target named in the config wins over a discovered one of the same name.
  const merged = mergeTargets(
    [{ target: '192.0.2.20', name: 'web', probe: ['tcp:443'] }],
    discoveredTargets(t, undefined),
  );
  assert.deepEqual(
    merged.map((x) => [x.name, x.target]),
    [
      ['web', '192.0.2.20'],
      ['db:52:54:00:00:00:02', 'db:52:54:00:00:00:02'],
      ['db:52:54:00:00:00:03', 'db:52:54:00:00:00:03'],
    ],
  );
});
