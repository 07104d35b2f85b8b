import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGraph, ifNodeId, searchGraph } from '../../src/serve/graph.js';
import { loadFixture } from '../helpers/fixtures.js';

/** The graph serve draws, from topologies recorded from the lab (bridged, Neutron, Docker). */

test('bridged: namespaces hold their interfaces, the bridge its ports, veth pairs join namespaces; search by address', () => {
  const f = loadFixture('lab-bridged-healthy');
  const t = f.context.topology;
  const hv = f.query.netns!;
  const g = buildGraph(t);
  const ids = new Set(g.nodes.map((n) => n.id));
  assert.ok(ids.has(`ns:${hv}`));
  const br0 = ifNodeId(hv, 'br0');
  const ports = g.edges.filter((e) => e.kind === 'bridge-port' && e.target === br0).map((e) => e.source);
  assert.deepEqual(ports.sort(), [ifNodeId(hv, 'eth0'), ifNodeId(hv, 'vnet0'), ifNodeId(hv, 'vnet1')].sort());
  const vm1 = searchGraph(g, '192.0.2.11');
  assert.equal(vm1.length, 1);
  assert.equal(vm1[0]!.ifname, 'eth0');
  assert.equal(vm1[0]!.target, '192.0.2.11');
  assert.ok(
    g.edges.some(
      (e) =>
        e.kind === 'veth' &&
        [e.source, e.target].includes(vm1[0]!.id) &&
        [e.source, e.target].includes(ifNodeId(hv, 'vnet0')),
    ),
    "vm1's eth0 is the peer of vnet0",
  );
  // Every edge joins two nodes of the graph; interfaces sit in their namespace's node.
  for (const e of g.edges) assert.ok(ids.has(e.source) && ids.has(e.target), e.id);
  for (const n of g.nodes.filter((x) => x.kind === 'interface')) assert.equal(n.parent, `ns:${n.netns}`);
  // The search is by MAC too, and words combine.
  assert.deepEqual(
    searchGraph(g, vm1[0]!.mac!).map((n) => n.id),
    [vm1[0]!.id],
  );
  assert.deepEqual(
    searchGraph(g, `eth0 ${vm1[0]!.netns}`).map((n) => n.id),
    [vm1[0]!.id],
  );
});

test('Neutron: OVS bridges, their ports and the patch between them; a port found by its UUID', () => {
  const t = loadFixture('lab-neutron-healthy').context.topology;
  const g = buildGraph(t);
  const ovs = g.nodes.filter((n) => n.kind === 'ovs-bridge').map((n) => n.label);
  assert.ok(ovs.includes('br-int') && ovs.includes('br-ex'), ovs.join(','));
  assert.ok(g.edges.some((e) => e.kind === 'ovs-patch'));
  const port = searchGraph(g, '3f2a9c1e-7b4d');
  assert.equal(port.length, 1);
  assert.equal(port[0]!.kind, 'interface');
});

test('Docker: a container node joined to its NIC, found by name', () => {
  const t = loadFixture('lab-docker-healthy').context.topology;
  const g = buildGraph(t);
  const ct = searchGraph(g, 'ct1').filter((n) => n.kind === 'container');
  assert.equal(ct.length, 1);
  assert.equal(ct[0]!.target, 'ct1');
  assert.ok(g.edges.some((e) => e.kind === 'nic' && e.source === ct[0]!.id));
});
