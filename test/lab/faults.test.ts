import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { OLD_GATEWAY_MAC } from '../../src/lab/faults/promisc-dependent.js';
import { checkSymptom } from '../../src/lab/probe.js';
import type { Topology } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { NEUTRON_PORTS, neutronDevice } from '../../src/lab/topologies/neutron.js';
import { host, ifOf, nsOf, withLab, type RunningLab } from '../helpers/lab.js';

/**
 * For every fault: what discover must show of the kernel state it changed.
 * A fault without an entry here fails the test, so a new fault needs one.
 */
const SEEN_BY_DISCOVER: Record<string, (t: Topology, lab: RunningLab) => void> = {
  'firewall-drop': (t, lab) => {
    const fwd = nsOf(t, lab.state.hypervisor).firewall!.iptables.find(
      (c) => c.table === 'filter' && c.chain === 'FORWARD',
    );
    assert.ok(
      fwd?.rules.some((r) => r.target === 'DROP' && r.spec.includes('--physdev-out vnet0')),
      'FORWARD DROP rule',
    );
  },
  'guest-firewall': (t, lab) => {
    const input = nsOf(t, lab.ns('vm1')).firewall!.iptables.find((c) => c.table === 'filter' && c.chain === 'INPUT');
    assert.equal(input?.rules.filter((r) => r.target === 'DROP').length, 2);
  },
  'link-down': (t, lab) => {
    const vnet0 = ifOf(t, lab.state.hypervisor, 'vnet0');
    assert.equal(vnet0.adminUp, false);
    assert.equal(vnet0.carrier, false);
  },
  'bridge-port-missing': (t, lab) => {
    assert.equal(ifOf(t, lab.state.hypervisor, 'vnet0').master, undefined);
    assert.ok(!nsOf(t, lab.state.hypervisor).bridges[0]!.ports.some((p) => p.ifname === 'vnet0'));
    const path = findPath(t, '192.0.2.11');
    assert.equal(path.complete, false);
    assert.equal(path.hops.find((h) => h.via === 'gap')?.ifname, 'vnet0');
  },
  'stp-blocking': (t, lab) => {
    assert.equal(ifOf(t, lab.state.hypervisor, 'vnet0').bridgePort?.state, 'disabled');
  },
  'mac-conflict': (t, lab) => {
    assert.equal(ifOf(t, lab.ns('vm2'), 'eth0').address, ifOf(t, lab.ns('vm1'), 'eth0').address);
  },
  'ip-conflict': (t, lab) => {
    assert.ok(ifOf(t, lab.ns('vm2'), 'eth0').addresses.some((a) => a.local === '192.0.2.11'));
    const path = findPath(t, '192.0.2.11');
    assert.equal(path.target.netns, lab.ns('vm1'), 'the address resolves to the guest that has it first');
    assert.ok(
      path.notes.some((n) => n.includes(lab.ns('vm2'))),
      'the other holder is named',
    );
  },
  'mtu-mismatch': (t, lab) => {
    assert.equal(ifOf(t, lab.ns('vm1'), 'eth0').mtu, 1400);
    assert.equal(ifOf(t, lab.state.hypervisor, 'vnet0').mtu, 1500);
  },
  'tc-filter': (t, lab) => {
    const f = nsOf(t, lab.state.hypervisor).tcFilters!.find((x) => x.dev === 'vnet0');
    assert.equal(f?.direction, 'ingress');
    assert.deepEqual(f?.actions, ['mirred egress redirect dev vnet1']);
  },
  'service-not-listening': (t, lab) => {
    assert.ok(!nsOf(t, lab.ns('vm1')).listeners!.some((l) => l.port === 80));
    assert.ok(nsOf(t, lab.ns('vm2')).listeners!.some((l) => l.port === 80));
  },
  'guest-arp-unresolved': (t, lab) => {
    const chain = nsOf(t, lab.ns('vm1')).firewall!.nft.find((c) => c.family === 'arp');
    assert.equal(chain?.hook, 'input');
    assert.equal(chain?.policy, 'drop');
    assert.ok(
      nsOf(t, lab.ns('client')).neighbours.some((n) => n.dst === '192.0.2.11' && n.state.includes('PERMANENT')),
    );
  },
  'guest-drops-arp': (t, lab) => {
    const chain = nsOf(t, lab.ns('vm1')).firewall!.nft.find((c) => c.family === 'arp' && c.table === 'hd_guest');
    assert.equal(chain?.hook, 'input');
    assert.ok(
      chain?.rules.some((r) => JSON.stringify(r.expr).includes('"drop"') && JSON.stringify(r.expr).includes('counter')),
      'a counted ARP drop rule',
    );
    assert.ok(
      !nsOf(t, lab.ns('client')).neighbours.some((n) => n.dst === '192.0.2.11' && n.lladdr),
      'the client has no entry for vm1',
    );
  },
  'guest-arp-ignore': (t, lab) => {
    assert.equal(nsOf(t, lab.ns('vm1')).sysctls?.arp_ignore['all'], 8);
  },
  'arp-reply-dropped': (t, lab) => {
    // ebtables-nft writes the bridge family of nftables.
    const fwd = nsOf(t, lab.state.hypervisor).firewall!.nft.find((c) => c.family === 'bridge' && c.chain === 'FORWARD');
    assert.ok(
      fwd?.rules.some(
        (r) => JSON.stringify(r.expr).includes('"drop"') && JSON.stringify(r.expr).includes('52:54:00:00:00:11'),
      ),
      JSON.stringify(fwd),
    );
  },
  'guest-no-reply': (t, lab) => {
    const vm1 = nsOf(t, lab.ns('vm1'));
    assert.equal(vm1.sysctls?.icmp_echo_ignore_all, 1);
    assert.ok(
      vm1.listeners!.some((l) => l.port === 80 && l.acceptQueue > 0),
      'the frozen listener has a full accept queue',
    );
  },
  'upstream-no-traffic': (t, lab) => {
    assert.ok(nsOf(t, lab.ns('client')).routes.some((r) => r.type === 'blackhole' && r.dst === '192.0.2.11/32'));
  },
  'device-drops': (t, lab) => {
    const q = nsOf(t, lab.state.hypervisor).qdiscs!.find((x) => x.dev === 'vnet0' && x.root);
    assert.equal(q?.kind, 'tbf');
    assert.ok(q.drops > 0, 'the symptom check made the queue drop');
  },
  'promisc-dependent': (t, lab) => {
    const n = nsOf(t, lab.ns('ct1')).neighbours.find((x) => x.dst === '203.0.113.1');
    assert.equal(n?.lladdr, OLD_GATEWAY_MAC);
    assert.notEqual(ifOf(t, lab.state.hypervisor, 'docker0').address, OLD_GATEWAY_MAC);
    assert.equal(ifOf(t, lab.state.hypervisor, 'docker0').promisc, false);
  },
  'ip-forward-disabled': (t, lab) => {
    assert.equal(nsOf(t, lab.state.hypervisor).sysctls?.ip_forward, 0);
  },
  'rp-filter-drop': (t, lab) => {
    const hv = nsOf(t, lab.state.hypervisor);
    assert.equal(hv.sysctls?.rp_filter['eth0'], 1);
    assert.ok(hv.routes.some((r) => r.dst === '198.51.100.96/28' && r.dev === 'docker0'));
  },
  'nat-missing': (t, lab) => {
    const docker = nsOf(t, lab.state.hypervisor).firewall!.iptables.find(
      (c) => c.table === 'nat' && c.chain === 'DOCKER',
    );
    assert.ok(docker, 'the DOCKER chain is still there');
    assert.ok(!docker.rules.some((r) => r.target === 'DNAT'));
  },
  'ovs-flow-drop': (t, lab) => {
    const br = nsOf(t, lab.state.hypervisor).ovs!.bridges.find((b) => b.name === 'br-int')!;
    const flow = br.flows.find((f) => f.priority === 100 && f.match.startsWith('ip,'));
    assert.deepEqual([flow?.match, flow?.actions], ['ip,nw_dst=192.0.2.11', 'drop']);
    assert.ok(flow!.n_packets > 0, 'the symptom check made it count');
    // Its IPv6 twin (test/diagnose/ipv6.test.ts).
    assert.ok(
      br.flows.some((f) => f.priority === 100 && f.match === 'ipv6,ipv6_dst=2001:db8::11' && f.actions === 'drop'),
      JSON.stringify(br.flows.map((f) => f.match)),
    );
  },
  'ovs-port-down': (t, lab) => {
    const port = nsOf(t, lab.state.hypervisor)
      .ovs!.bridges.find((b) => b.name === 'br-int')!
      .ports.find((p) => p.name === 'vnet0')!;
    assert.equal(port.interfaces[0]!.admin_state, 'down');
  },
  'neutron-flow-drop': (t, lab) => {
    const flow = nsOf(t, lab.state.hypervisor)
      .ovs!.bridges.find((b) => b.name === 'br-int')!
      .flows.find((f) => f.priority === 100);
    assert.deepEqual([flow?.match, flow?.actions], ['ip,nw_dst=192.0.2.11', 'drop']);
  },
  'neutron-vlan-mismatch': (t, lab) => {
    const ports = nsOf(t, lab.state.hypervisor).ovs!.bridges.find((b) => b.name === 'br-int')!.ports;
    const qvo = (vm: string) => ports.find((p) => p.name === neutronDevice('qvo', NEUTRON_PORTS[vm]!.portId))!;
    assert.deepEqual([qvo('vm1').tag, qvo('vm1').other_config['tag'], qvo('vm2').tag], [2, '1', 1]);
  },
  'neutron-qvo-missing': (t, lab) => {
    const name = neutronDevice('qvo', NEUTRON_PORTS['vm1']!.portId);
    assert.equal(ifOf(t, lab.state.hypervisor, name).ovsBridge, undefined);
    const path = findPath(t, '192.0.2.11');
    assert.equal(path.complete, false);
    assert.deepEqual(
      path.hops.slice(0, 4).map((h) => `${h.ifname}:${h.via}`),
      ['eth0:start', 'br-ex:bridge', 'br-int:patch', `${name}:gap`],
    );
  },
  'neutron-patch-peer-missing': (t, lab) => {
    const intBrEx = nsOf(t, lab.state.hypervisor)
      .ovs!.bridges.find((b) => b.name === 'br-int')!
      .ports.find((p) => p.name === 'int-br-ex')!.interfaces[0]!;
    assert.match(intBrEx.error ?? '', /No usable peer 'phy-br-ex'/);
    const path = findPath(t, '192.0.2.11');
    assert.deepEqual(
      path.hops.slice(0, 3).map((h) => `${h.ifname}:${h.via}`),
      ['eth0:start', 'br-ex:bridge', 'br-int:gap'],
    );
  },
  'neutron-flow-wrong-port': (t, lab) => {
    const flow = nsOf(t, lab.state.hypervisor)
      .ovs!.bridges.find((b) => b.name === 'br-int')!
      .flows.find((f) => f.priority === 100);
    assert.match(flow?.actions ?? '', new RegExp(`output:"?${neutronDevice('qvo', NEUTRON_PORTS['vm2']!.portId)}`));
  },
  'neutron-mac-wrong-port': (t, lab) => {
    const fdb = nsOf(t, lab.state.hypervisor).ovs!.bridges.find((b) => b.name === 'br-int')!.fdb;
    const e = fdb.find((x) => x.mac === 'fa:16:3e:00:00:11');
    assert.deepEqual([e?.port, e?.vlan, e?.age], [neutronDevice('qvo', NEUTRON_PORTS['vm2']!.portId), 1, 'static']);
  },
  'ovn-acl-drop': (t, lab) => {
    // The ACL is northbound state; discover shows the flows ovn-controller compiled from it.
    assert.ok(
      nsOf(t, lab.state.hypervisor).ovs!.bridges.find((b) => b.name === 'br-int')!.flows.length > 50,
      'OVN logical flows on br-int',
    );
  },
  'ovn-port-security': (t, lab) => {
    const i = nsOf(t, lab.state.hypervisor)
      .ovs!.bridges.find((b) => b.name === 'br-int')!
      .ports.flatMap((p) => p.interfaces)
      .find((x) => x.external_ids['iface-id'] === 'vm1');
    assert.equal(i?.name, 'tapvm1');
  },
  'docker-user-drop': (t, lab) => {
    const user = nsOf(t, lab.state.hypervisor).firewall!.iptables.find(
      (c) => c.table === 'filter' && c.chain === 'DOCKER-USER',
    );
    assert.ok(
      user?.rules.some((r) => r.target === 'DROP' && r.spec.includes('-d 203.0.113.2')),
      'the DROP rule in DOCKER-USER',
    );
    assert.ok(
      nsOf(t, lab.state.hypervisor).firewall!.iptables.some((c) => c.chain === 'DOCKER-ISOLATION-STAGE-1'),
      "dockerd's own chains are read",
    );
  },
  'docker-dnat-removed': (t, lab) => {
    const docker = nsOf(t, lab.state.hypervisor).firewall!.iptables.find(
      (c) => c.table === 'nat' && c.chain === 'DOCKER',
    );
    assert.ok(docker && !docker.rules.some((r) => r.target === 'DNAT'), 'no DNAT left in nat/DOCKER');
    // The Engine API still publishes the port: that contradiction is the evidence.
    assert.ok(
      t
        .docker!.containers.find((c) => c.name === 'ct1')!
        .ports.some((p) => p.publicPort === 9200 && p.hostIp === '198.51.100.1'),
    );
  },
  'docker-not-listening': (t) => {
    const ct1 = t.docker!.containers.find((c) => c.name === 'ct1')!;
    assert.equal(ct1.state, 'running', 'the container is still up');
    assert.ok(
      !nsOf(t, ct1.endpoints[0]!.netns!).listeners!.some((l) => l.port === 9200),
      'nothing listens on 9200 in its namespace',
    );
  },
  'docker-promisc': (t, lab) => {
    const ct1 = t.docker!.containers.find((c) => c.name === 'ct1')!;
    const n = nsOf(t, ct1.endpoints[0]!.netns!).neighbours.find((x) => x.dst === '203.0.113.1');
    assert.equal(n?.lladdr, OLD_GATEWAY_MAC);
    assert.equal(ifOf(t, lab.state.hypervisor, 'docker0').promisc, false);
  },
  'no-route': (t, lab) => {
    assert.ok(!nsOf(t, lab.ns('ct1')).routes.some((r) => r.dst === 'default'));
  },
  // issue 16 §3b: macvlan
  'macvlan-host-isolation': (t, lab) => {
    const hv = nsOf(t, lab.state.hypervisor);
    assert.ok(!hv.interfaces.some((i) => i.ifname === 'mac0'), 'the mac0 shim is gone');
    assert.ok(
      ifOf(t, lab.state.hypervisor, 'eth0').addresses.some((a) => a.local === '198.51.100.1'),
      'the host address is on eth0',
    );
    assert.deepEqual(
      [ifOf(t, lab.ns('ct1'), 'eth0').lower?.netns, ifOf(t, lab.ns('ct1'), 'eth0').lower?.ifname],
      [lab.state.hypervisor, 'eth0'],
    );
  },
  'macvlan-private': (t, lab) => {
    assert.equal(ifOf(t, lab.ns('ct1'), 'eth0').mode, 'private');
    assert.equal(ifOf(t, lab.ns('ct2'), 'eth0').mode, 'private');
  },
  // issue 16 §3: a chain of bridges
  'chain-firewall-drop': (t, lab) => {
    const fwd = nsOf(t, lab.state.hypervisor).firewall!.iptables.find(
      (c) => c.table === 'filter' && c.chain === 'FORWARD',
    );
    assert.ok(
      fwd?.rules.some((r) => r.target === 'DROP' && r.spec.includes('--physdev-out tap100i0')),
      'FORWARD DROP rule',
    );
  },
  'chain-stp-blocking': (t, lab) => {
    assert.equal(ifOf(t, lab.state.hypervisor, 'fwpr100p0').bridgePort?.state, 'disabled');
  },
  // issue 16 §4: NDP-only breaks (IPv6 only)
  'guest-drops-ns': (t, lab) => {
    const chain = nsOf(t, lab.ns('vm1')).firewall!.nft.find((c) => c.family === 'ip6' && c.table === 'hd_guest');
    assert.equal(chain?.hook, 'input');
    assert.ok(
      chain?.rules.some((r) => JSON.stringify(r.expr).includes('"drop"') && JSON.stringify(r.expr).includes('counter')),
      'a counted NS drop rule',
    );
    assert.ok(
      !nsOf(t, lab.ns('client')).neighbours.some((n) => n.dst === '2001:db8::11' && n.lladdr),
      'the client has no IPv6 entry for vm1',
    );
  },
  'ndp-reply-dropped': (t, lab) => {
    const fwd = nsOf(t, lab.state.hypervisor).firewall!.nft.find(
      (c) => c.family === 'bridge' && c.table === 'hd_nd' && c.hook === 'forward',
    );
    assert.ok(
      fwd?.rules.some(
        (r) => JSON.stringify(r.expr).includes('"drop"') && JSON.stringify(r.expr).includes('52:54:00:00:00:11'),
      ),
      JSON.stringify(fwd),
    );
  },
};

describe('lab faults', { concurrency: 4 }, () => {
  // The vm lab's faults are checked with the real guest in test/lab/vm.test.ts.
  for (const fault of FAULTS.filter((f) => f.topology !== 'vm')) {
    test(`${fault.name}: breaks ${fault.target} (${fault.symptom.kind}) and discover shows it`, async () => {
      const seen = SEEN_BY_DISCOVER[fault.name];
      assert.ok(seen, `no discover expectation written for fault ${fault.name}`);
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'f' }, async (lab) => {
        const topology = findTopology(fault.topology);
        const r = await checkSymptom(host, topology, lab.state.client, fault.symptom);
        assert.equal(r.present, true, `${fault.name} should break ${fault.target}: ${r.detail}`);
        seen(await lab.discover(), lab);
      });
    });
  }

  test('promisc-dependent: the container answers exactly while docker0 is promiscuous', async () => {
    await withLab({ topology: 'routed', fault: 'promisc-dependent', prefix: 'pd' }, async (lab) => {
      const topology = findTopology('routed');
      const symptom = { kind: 'ping-fails', target: 'ct1' } as const;
      await host.run(['ip', 'link', 'set', 'docker0', 'promisc', 'on'], { netns: lab.state.hypervisor });
      try {
        const r = await checkSymptom(host, topology, lab.state.client, symptom);
        assert.equal(r.present, false, `with docker0 promiscuous ct1 answers: ${r.detail}`);
      } finally {
        await host.run(['ip', 'link', 'set', 'docker0', 'promisc', 'off'], { netns: lab.state.hypervisor });
      }
      assert.equal((await checkSymptom(host, topology, lab.state.client, symptom)).present, true);
    });
  });
});
