import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUSYBOX_IMAGE, docker } from '../../src/lab/docker.js';
import { builder, findTopology } from '../../src/lab/lab.js';
import { checkSymptom, healthySymptoms } from '../../src/lab/probe.js';
import { TopologySchema } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { renderPath } from '../../src/report/path-text.js';
import { renderTopology } from '../../src/report/topology-text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, ifOf, leftoverNamespaces, nsOf, withLab } from '../helpers/lab.js';

/** Issue 16 §3b and §3: the macvlan and bridge-chain labs, healthy, discovered and pathed. */
describe('macvlan and chain lab topologies', { concurrency: 2 }, () => {
  test('macvlan: containers on macvlans of the uplink are found from the host, pathed with no bridge', async () => {
    let instance = '';
    await withLab({ topology: 'macvlan', prefix: 'ch' }, async (lab) => {
      instance = lab.state.instance;
      const topology = findTopology('macvlan');
      for (const target of topology.targets) {
        for (const symptom of healthySymptoms(target)) {
          const r = await checkSymptom(host, topology, lab.state.client, symptom);
          assert.equal(r.present, false, `healthy ${target.name}: ${symptom.kind}: ${r.detail}`);
        }
      }
      // The host through its mac0 shim, and the sibling container (bridge mode), reach ct1.
      for (const from of ['hv', 'ct2']) {
        const r = await checkSymptom(host, topology, lab.state.client, { kind: 'ping-fails', target: 'ct1', from });
        assert.equal(r.present, false, `from ${from}: ${r.detail}`);
      }
      const t = await lab.discover();
      TopologySchema.parse(t);
      // The containers' namespaces are linked to the host by no veth: found from their macvlans' link-netnsid.
      assert.deepEqual(new Set(t.namespaces.map((n) => n.id)), new Set(lab.state.namespaces));
      for (const target of topology.targets) {
        const nic = ifOf(t, lab.ns(target.role), 'eth0');
        assert.deepEqual(
          [nic.kind, nic.mode, nic.lower?.netns, nic.lower?.ifname, nic.address],
          ['macvlan', 'bridge', lab.state.hypervisor, 'eth0', target.mac],
        );
        const path = findPath(t, target.address);
        assert.equal(path.complete, true);
        assert.deepEqual(
          path.hops.map((h) => `${h.netns}/${h.ifname}:${h.role}:${h.via}:${h.seesTransit}`),
          [`${lab.state.hypervisor}/eth0:uplink:start:true`, `${lab.ns(target.role)}/eth0:guest-nic:macvlan:true`],
        );
        assert.match(
          renderPath(path, lab.state.hypervisor),
          new RegExp(`≈\\s+${lab.ns(target.role)}\\s+eth0\\s+macvlan\\s+guest-nic\\s+yes`),
        );
      }
      const mac0 = ifOf(t, lab.state.hypervisor, 'mac0');
      assert.deepEqual([mac0.kind, mac0.mode, mac0.lower?.ifname], ['macvlan', 'bridge', 'eth0']);
      // The host's address is on mac0: the uplink is still eth0, mac0's lower device.
      assert.equal(findPath(t, '198.51.100.11').hops[0]!.ifname, 'eth0');
      const text = renderTopology(t);
      for (const line of text.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
      assert.match(
        text,
        new RegExp(
          `${lab.ns('ct1')}[\\s\\S]*eth0 +macvlan[^\\n]*198\\.51\\.100\\.11[\\s\\S]*?mode bridge ≈ lower ${lab.state.hypervisor}/eth0`,
        ),
      );
      // The lower device is promiscuous for its children by design: not flagged.
      const eth0 = text.split('\n').findIndex((l) => /^ {2}eth0 +veth/.test(l));
      assert.doesNotMatch(`${text.split('\n')[eth0]}\n${text.split('\n')[eth0 + 1]}`, /PROMISC/);
      assert.ok(nsOf(t, lab.state.hypervisor).interfaces.some((i) => i.ifname === 'eth0'));
    });
    assert.deepEqual(leftoverNamespaces(instance), []);
  });

  test('chain: the path crosses vmbr0 and the firewall bridge fwbr100i0', async () => {
    let instance = '';
    await withLab({ topology: 'chain', prefix: 'ch' }, async (lab) => {
      instance = lab.state.instance;
      const topology = findTopology('chain');
      const target = topology.targets[0]!;
      for (const symptom of healthySymptoms(target)) {
        const r = await checkSymptom(host, topology, lab.state.client, symptom);
        assert.equal(r.present, false, `healthy: ${symptom.kind}: ${r.detail}`);
      }
      const t = await lab.discover();
      TopologySchema.parse(t);
      assert.deepEqual(new Set(t.namespaces.map((n) => n.id)), new Set(lab.state.namespaces));
      const hv = lab.state.hypervisor;
      const path = findPath(t, target.address);
      assert.equal(path.complete, true);
      assert.deepEqual(
        path.hops.map((h) => `${h.ifname}:${h.role}:${h.via}`),
        [
          'eth0:uplink:start',
          'vmbr0:bridge:bridge',
          'fwpr100p0:bridge-port:bridge',
          'fwln100i0:bridge-port:veth',
          'fwbr100i0:bridge:bridge',
          'tap100i0:backend:bridge',
          'eth0:guest-nic:veth',
        ],
      );
      assert.equal(path.hops.at(-1)!.netns, lab.ns('vm100'));
      const ns = nsOf(t, hv);
      assert.deepEqual(
        ns.bridges
          .find((b) => b.ifname === 'vmbr0')!
          .ports.map((p) => p.ifname)
          .sort(),
        ['eth0', 'fwpr100p0'],
      );
      assert.deepEqual(
        ns.bridges
          .find((b) => b.ifname === 'fwbr100i0')!
          .ports.map((p) => p.ifname)
          .sort(),
        ['fwln100i0', 'tap100i0'],
      );
      assert.equal(ns.sysctls?.bridge_nf_call_iptables, 1);
      // The probes above made vmbr0 learn the guest's MAC towards the firewall bridge, fwbr100i0 on the tap.
      const fdb = (br: string) =>
        ns.bridges.find((b) => b.ifname === br)!.fdb.find((e) => e.mac === target.mac)?.ifname;
      assert.deepEqual([fdb('vmbr0'), fdb('fwbr100i0')], ['fwpr100p0', 'tap100i0']);
    });
    assert.deepEqual(leftoverNamespaces(instance), []);
  });
});

describe('a real Docker macvlan network', { concurrency: 1 }, () => {
  test('docker network create -d macvlan -o parent=eth0: the container is found, joined to its parent, pathed, and unreachable from the host by design', async () => {
    await withLab({ topology: 'docker', prefix: 'ch' }, async (lab) => {
      const b = builder(host, lab.state.instance);
      await docker(b, 'hv', [
        'network',
        'create',
        '-d',
        'macvlan',
        '--subnet',
        '198.51.100.0/24',
        '--gateway',
        '198.51.100.100',
        '-o',
        'parent=eth0',
        'pub',
      ]);
      await docker(b, 'hv', [
        'run',
        '-d',
        '--name',
        'mv1',
        '--network',
        'pub',
        '--ip',
        '198.51.100.21',
        BUSYBOX_IMAGE,
        'sleep',
        '3600',
      ]);
      const t = await lab.discover();
      const net = t.docker!.networks.find((n) => n.name === 'pub')!;
      assert.deepEqual([net.driver, net.parent, net.mode], ['macvlan', 'eth0', 'bridge']);
      const ep = t.docker!.containers.find((c) => c.name === 'mv1')!.endpoints[0]!;
      assert.match(ep.netns ?? '', /^pid:\d+$/, 'the container namespace is found though no veth leads there');
      assert.deepEqual(
        [ep.ifname, ep.lowerDevice, ep.mode, ep.hostVeth, ep.bridge],
        ['eth0', 'eth0', 'bridge', undefined, undefined],
      );
      assert.match(renderTopology(t), /mv1 [\s\S]*endpoints: pub 198\.51\.100\.21\/24 [^\n]* ≈ eth0 \(mode bridge\)/);
      const path = findPath(t, 'mv1');
      assert.deepEqual(
        path.hops.map((h) => `${h.netns}/${h.ifname}:${h.role}:${h.via}`),
        [`${lab.state.hypervisor}/eth0:uplink:start`, `${ep.netns}/eth0:guest-nic:macvlan`],
      );

      const ok = await diagnoseLab(lab, 'mv1', { probes: ['icmp'] });
      assert.equal(ok.report.status, 'ok', JSON.stringify(ok.report.causes));
      assert.deepEqual(ok.report.causes, []);
      const { report } = await diagnoseLab(lab, 'mv1', { probes: ['icmp'], from: `netns:${lab.state.hypervisor}` });
      assert.equal(report.status, 'broken');
      assert.equal(report.causes[0]?.id, 'macvlan-isolation', JSON.stringify(report.causes.map((c) => c.id)));
      assert.deepEqual(report.causes[0].device, { netns: lab.state.hypervisor, ifname: 'eth0' });
    });
  });
});
