import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findTopology } from '../../src/lab/lab.js';
import {
  canonicalIfname,
  DIMENSIONS,
  dimensionsOf,
  drawVariant,
  guestHasAgent,
  translate,
  valuesOf,
  variantTopology,
  VARIANT_TOPOLOGIES,
  type Dimension,
} from '../../src/lab/variant.js';

/** drawVariant('bridged', 7) as the commit before the kind of guest drew it (and 'namespace' for it). */
const BRIDGED_7 = ['eth0', 'br0', 'qvo<id>', 'qvo8b42c835-48', 'fa:16:3e', '5432', 'default', 'namespace'];

describe('lab variants (root-free)', () => {
  for (const topology of VARIANT_TOPOLOGIES) {
    test(`${topology}: every dimension takes each of its values for some seed in 0-99`, () => {
      const seen = new Map<Dimension, Set<string>>();
      const rangesAt = DIMENSIONS.ranges.map(() => new Set<string>());
      for (let seed = 0; seed < 100; seed++) {
        const plan = drawVariant(topology, seed);
        for (const [dim, value] of Object.entries(plan.drawn) as Array<[Dimension, string]>) {
          if (!seen.has(dim)) seen.set(dim, new Set());
          seen.get(dim)!.add(value);
        }
        DIMENSIONS.ranges.forEach((r, i) => rangesAt[i]!.add(plan.v4[r]!));
      }
      // Each value the topology allows (valuesOf: a QEMU guest's backend is a tap or a macvtap, its
      // kind one of the three QEMU kinds); a dimension that does not apply keeps its one value.
      for (const dim of Object.keys(DIMENSIONS) as Dimension[]) {
        if (dim === 'ranges') continue;
        const want = dimensionsOf(topology).includes(dim)
          ? valuesOf(topology, dim)
          : valuesOf(topology, dim).slice(0, 1);
        assert.deepEqual([...seen.get(dim)!].sort(), [...want].sort(), `${topology}: dimension ${dim}`);
      }
      // The kind of guest: a namespace wherever the guests are namespaces, one of the QEMU kinds on the QEMU topologies.
      if (['vm', 'vm-macvtap'].includes(topology))
        assert.deepEqual([...seen.get('guestKind')!].sort(), ['libvirt', 'libvirt+agent', 'qemu']);
      else assert.deepEqual([...seen.get('guestKind')!], ['namespace']);
      // Each canonical range becomes each documentation range for some seed.
      for (const s of rangesAt) assert.deepEqual([...s].sort(), [...DIMENSIONS.ranges].sort());
    });
  }

  test('every value of every dimension is drawn on some topology', () => {
    for (const dim of Object.keys(DIMENSIONS) as Dimension[]) {
      const drawnSomewhere = new Set(
        VARIANT_TOPOLOGIES.flatMap((t) =>
          dimensionsOf(t).includes(dim) ? valuesOf(t, dim) : valuesOf(t, dim).slice(0, 1),
        ),
      );
      assert.deepEqual([...drawnSomewhere].sort(), [...DIMENSIONS[dim]].sort(), dim);
    }
  });

  test('the namespace topologies draw what they drew before the QEMU dimensions existed (seeds replay)', () => {
    // Recorded before guestKind and macvtapN were added: a seed is the same host across commits.
    const p = drawVariant('bridged', 7);
    assert.deepEqual(
      [
        p.drawn.uplink,
        p.drawn.bridge,
        p.drawn.backend,
        p.ifnames.hv!.vnet0,
        p.drawn.guestOui,
        p.ports['80'],
        p.drawn.daemonDir,
        p.drawn.guestKind,
      ],
      BRIDGED_7,
    );
  });

  test('a QEMU guest: libvirt names its own vnetN/macvtapN from 0, plain QEMU is told the drawn name; the agent only with libvirt+agent', () => {
    for (let seed = 0; seed < 100; seed++) {
      for (const topology of ['vm', 'vm-macvtap']) {
        const p = drawVariant(topology, seed);
        const canonical = topology === 'vm' ? 'vnet0' : 'macvtap0';
        const name = p.ifnames.hv![canonical]!;
        if (p.drawn.guestKind !== 'qemu' && ['vnetN', 'macvtapN'].includes(p.drawn.backend))
          assert.equal(name, canonical, `${topology} ${seed}`);
        if (p.drawn.backend === 'tapN') assert.match(name, /^tap\d+$/);
        assert.equal(guestHasAgent(p), p.drawn.guestKind === 'libvirt+agent');
        assert.equal(p.ifnames.vm1, undefined, "the guest's NIC is its kernel's eth0");
      }
    }
    assert.equal(guestHasAgent(undefined), true, 'the fixed lab: libvirt with the agent');
    // `lab up` suggests a libvirt guest by its domain name, a plain QEMU one by its address.
    const suggested = (seed: number) => variantTopology(findTopology('vm'), drawVariant('vm', seed)).suggestedTarget;
    const seedOf = (kind: string) => [...Array(100).keys()].find((s) => drawVariant('vm', s).drawn.guestKind === kind)!;
    assert.equal(suggested(seedOf('qemu')), undefined);
    assert.equal(suggested(seedOf('libvirt+agent')), 'vm1');
  });

  test('the same seed draws the same host; another seed another one', () => {
    assert.deepEqual(drawVariant('bridged', 42), drawVariant('bridged', 42));
    const names = new Set(Array.from({ length: 20 }, (_, s) => JSON.stringify(drawVariant('bridged', s).ifnames)));
    assert.ok(names.size > 15, 'seeds give different names');
  });

  test('names are rewritten as whole words in one pass, per role, within rules and sysctl keys', () => {
    const plan = drawVariant('bridged', 3);
    plan.ifnames.hv = { eth0: 'ens3', br0: 'vmbr0', vnet0: 'vnet1', vnet1: 'vnet2' };
    plan.ifnames.vm1 = { eth0: 'enp1s0' };
    assert.equal(translate(plan, 'hv', 'vnet0'), 'vnet1', 'not vnet0 -> vnet1 -> vnet2');
    assert.equal(translate(plan, 'hv', 'vnet01'), 'vnet01');
    assert.equal(translate(plan, 'hv', 'net.ipv4.conf.eth0.rp_filter=1'), 'net.ipv4.conf.ens3.rp_filter=1');
    assert.equal(translate(plan, 'hv', 'iifname "vnet1" drop'), 'iifname "vnet2" drop');
    assert.equal(translate(plan, 'vm1', 'eth0'), 'enp1s0', 'the guest NIC is named in its own role');
    assert.equal(translate(plan, 'client', 'eth0'), 'eth0');
  });

  test('addresses, MACs and ports follow the plan; ports are never rewritten inside a MAC', () => {
    const plan = drawVariant('routed', 5);
    plan.v4 = { '192.0.2': '203.0.113', '198.51.100': '192.0.2', '203.0.113': '198.51.100' };
    plan.ports = { '80': '8080', '9200': '5000' };
    assert.equal(translate(plan, 'hv', '198.51.100.1:9200'), '192.0.2.1:5000');
    assert.equal(translate(plan, 'hv', '--dport 9200'), '--dport 5000');
    assert.equal(translate(plan, 'hv', '80'), '8080');
    assert.equal(translate(plan, 'hv', '198.51.100.96/28'), '192.0.2.96/28');
    assert.equal(translate(plan, 'hv', 'rate 80kbit'), 'rate 80kbit');
    // The lab guest's kernel command line.
    assert.equal(
      translate(plan, 'hv', 'hopdump.ip=198.51.100.11/24 hopdump.port=80 hopdump.qga=x'),
      'hopdump.ip=192.0.2.11/24 hopdump.port=8080 hopdump.qga=x',
    );
    assert.equal(translate(plan, 'hv', "<target port='0'/>"), "<target port='0'/>");
    // Docker's MAC is 02:42 and the container's IPv4 address: it moves with the address.
    assert.equal(translate(plan, 'ct1', '02:42:cb:00:71:02'), '02:42:c6:33:64:02');
    assert.equal(translate(plan, 'hv', '02:00:00:00:80:80'), '02:00:00:00:80:80');
    assert.equal(translate(plan, 'hv', '2001:db8::11/64'), `2001:db8:${plan.v6}::11/64`);
    assert.equal(translate(plan, 'hv', '2001:db8:5100::1'), `2001:db8:${plan.v6}:5100::1`);
  });

  test("docker: the container's network decides the bridge; a published port maps both its ports", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const plan = drawVariant('docker', seed);
      const bridge = plan.ifnames.hv!.docker0!;
      seen.add(plan.dockerNetwork!);
      if (plan.dockerNetwork === 'default') assert.equal(bridge, 'docker0');
      else if (plan.dockerNetwork === 'user-defined') assert.match(bridge, /^br-[0-9a-f]{12}$/);
      else assert.ok(!['docker0'].includes(bridge) && !bridge.startsWith('br-'), bridge);
      assert.equal(plan.drawn.bridge, plan.dockerNetwork === 'user-defined' ? 'br-<hex>' : bridge);
      assert.equal(plan.drawn.guestBridge, 'no', 'no bridge inside a Docker container');
    }
    assert.equal(seen.size, 3);
    const plan = drawVariant('docker', 4);
    plan.v4 = { '192.0.2': '203.0.113', '198.51.100': '192.0.2', '203.0.113': '198.51.100' };
    plan.ports = { '80': '9200', '9200': '80' };
    assert.equal(
      translate(plan, 'hv', '198.51.100.1:9200:9200'),
      '192.0.2.1:80:80',
      'docker run -p HOST:PORT:PORT, each once',
    );
    assert.equal(
      translate(plan, 'hv', '{"bip": "203.0.113.1/24"}'),
      '{"bip": "198.51.100.1/24"}',
      "daemon.json's addresses too",
    );
    // The empty docker0 beside a user-defined network's bridge is not the lab's docker0.
    plan.ifnames.hv = { eth0: 'ens3', docker0: 'br-0123456789ab' };
    assert.equal(canonicalIfname(plan, 'hv', 'br-0123456789ab'), 'docker0');
    assert.notEqual(canonicalIfname(plan, 'hv', 'docker0'), 'docker0');
    assert.equal(
      variantTopology(findTopology('docker'), { ...plan, ports: { '9200': '5432' } }).suggestedTarget,
      'ct1:5432',
    );
  });

  test("ovn: the management system's logical names are rewritten in northbound commands and iface-ids", () => {
    const names = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const plan = drawVariant('ovn', seed);
      names.add(plan.drawn.logicalNames);
      const hv = plan.ifnames.hv!;
      if (plan.drawn.logicalNames === 'neutron') {
        assert.match(hv.ls1!, /^neutron-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(hv.vm1!, /^[0-9a-f]{8}-/);
      } else if (plan.drawn.logicalNames === 'ovn-kubernetes') {
        assert.match(hv.vm1!, /^default_vm1-[0-9a-f]{10}-[0-9a-f]{5}$/);
        assert.equal(hv.client, `k8s-${hv.ls1}`);
      } else {
        assert.equal(hv.ls1, undefined);
      }
      const acl = translate(plan, 'hv', 'outport == "vm1" && ip4');
      assert.equal(acl, `outport == "${hv.vm1 ?? 'vm1'}" && ip4`);
      assert.equal(translate(plan, 'hv', 'external_ids:iface-id=vm2'), `external_ids:iface-id=${hv.vm2 ?? 'vm2'}`);
      // Namespace names and the lab's OVS ports are not logical names.
      assert.equal(translate(plan, 'hv', 'hd-x-vm1'), 'hd-x-vm1');
      assert.equal(translate(plan, 'vm1', 'vm1'), 'vm1');
    }
    assert.equal(names.size, 3);
  });

  test('the topology a variant builds names its targets in its own terms', () => {
    const plan = drawVariant('bridged', 9);
    const t = variantTopology(findTopology('bridged'), plan);
    const vm1 = t.targets[0]!;
    assert.equal(vm1.backend, plan.ifnames.hv!.vnet0);
    assert.equal(vm1.address, `${plan.v4['192.0.2']}.11`);
    assert.equal(String(vm1.port), plan.ports['80']);
    assert.equal(vm1.mac, plan.macs['52:54:00:00:00:11']);
    assert.ok(vm1.mac.startsWith(plan.drawn.guestOui));
  });
});
