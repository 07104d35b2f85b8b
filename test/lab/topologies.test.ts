import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopologySchema } from '../../src/model/topology.js';
import { renderTopology } from '../../src/report/topology-text.js';
import { renderPath } from '../../src/report/path-text.js';
import { findPath } from '../../src/path/find.js';
import { TOPOLOGIES } from '../../src/lab/lab.js';
import { checkSymptom, healthySymptoms } from '../../src/lab/probe.js';
import { existsSync } from 'node:fs';
import { ovsDir } from '../../src/lab/ovs.js';
import { ovnDatabases, ovnNbState, ovnTrace } from '../../src/collect/ovn.js';
import { NEUTRON_PORTS, neutronDevice } from '../../src/lab/topologies/neutron.js';
import { host, ifOf, leftoverNamespaces, nsOf, withLab } from '../helpers/lab.js';

describe('lab topologies', { concurrency: true }, () => {
  // The vm lab's guest is a QEMU guest, not a namespace: test/lab/vm.test.ts and test/diagnose/vm.test.ts.
  // The docker lab's container is Docker's (pid:N, veth named by Docker): test/lab/docker.test.ts.
  // The macvlan, chain and vm-macvtap labs (issue 16 §3, §3b): test/lab/chain-macvlan.test.ts, test/diagnose/chain-macvlan.test.ts.
  for (const topology of TOPOLOGIES.filter(
    (t) => !['vm', 'docker', 'macvlan', 'chain', 'vm-macvtap'].includes(t.name),
  )) {
    test(`${topology.name}: healthy, discovered, pathed and removed without leftovers`, async () => {
      let instance = '';
      await withLab({ topology: topology.name, prefix: 'tp' }, async (lab) => {
        instance = lab.state.instance;
        for (const target of topology.targets) {
          for (const symptom of healthySymptoms(target)) {
            const r = await checkSymptom(host, topology, lab.state.client, symptom);
            assert.equal(r.present, false, `${topology.name} healthy ${target.name}: ${symptom.kind}: ${r.detail}`);
          }
        }
        const t = await lab.discover();
        TopologySchema.parse(t);
        assert.equal(t.root, lab.state.hypervisor);
        assert.deepEqual(
          new Set(t.namespaces.map((n) => n.id)),
          new Set(lab.state.namespaces),
          'discover reaches every lab namespace through veth peers',
        );
        for (const target of topology.targets) {
          const backend = ifOf(t, lab.state.hypervisor, target.backend);
          assert.equal(backend.peer?.netns, lab.ns(target.role));
          assert.equal(backend.peer?.ifname, 'eth0');
          assert.equal(ifOf(t, lab.ns(target.role), 'eth0').address, target.mac);
          const path = findPath(t, target.address);
          assert.equal(path.complete, true);
          assert.deepEqual(
            path.hops.map((h) => `${h.netns}/${h.ifname}:${h.role}:${h.seesTransit}`),
            topology.name === 'neutron'
              ? [
                  `${lab.state.hypervisor}/eth0:uplink:true`,
                  `${lab.state.hypervisor}/br-ex:bridge:false`,
                  `${lab.state.hypervisor}/br-int:bridge:false`,
                  `${lab.state.hypervisor}/${neutronDevice('qvo', NEUTRON_PORTS[target.name]!.portId)}:bridge-port:true`,
                  `${lab.state.hypervisor}/${neutronDevice('qvb', NEUTRON_PORTS[target.name]!.portId)}:bridge-port:true`,
                  `${lab.state.hypervisor}/${neutronDevice('qbr', NEUTRON_PORTS[target.name]!.portId)}:bridge:false`,
                  `${lab.state.hypervisor}/${target.backend}:backend:true`,
                  `${lab.ns(target.role)}/eth0:guest-nic:true`,
                ]
              : topology.name === 'ovn'
                ? [
                    `${lab.state.hypervisor}/eth0:uplink:true`,
                    `${lab.state.hypervisor}/br-int:bridge:false`,
                    `${lab.state.hypervisor}/${target.backend}:backend:true`,
                    `${lab.ns(target.role)}/eth0:guest-nic:true`,
                  ]
                : topology.name === 'ovs'
                  ? [
                      `${lab.state.hypervisor}/eth0:uplink:true`,
                      `${lab.state.hypervisor}/br-ex:bridge:false`,
                      `${lab.state.hypervisor}/br-int:bridge:false`,
                      `${lab.state.hypervisor}/${target.backend}:backend:true`,
                      `${lab.ns(target.role)}/eth0:guest-nic:true`,
                    ]
                  : topology.name === 'bridged'
                    ? [
                        `${lab.state.hypervisor}/eth0:uplink:true`,
                        `${lab.state.hypervisor}/br0:bridge:false`,
                        `${lab.state.hypervisor}/${target.backend}:backend:true`,
                        `${lab.ns(target.role)}/eth0:guest-nic:true`,
                      ]
                    : [
                        `${lab.state.hypervisor}/eth0:uplink:true`,
                        `${lab.state.hypervisor}/docker0:router:true`,
                        `${lab.state.hypervisor}/${target.backend}:backend:true`,
                        `${lab.ns(target.role)}/eth0:guest-nic:true`,
                      ],
          );
          // The hypervisor's own address (OVN's hypervisor has none on the logical switch): the path ends on the device that holds it.
          if (topology.name !== 'ovn') {
            const own = findPath(t, topology.uplink.address);
            assert.equal(own.hops.at(-1)!.isTarget, true);
            assert.equal(own.hops.at(-1)!.netns, lab.state.hypervisor);
            assert.equal(own.hops.at(-1)!.seesTransit, true);
          }
        }
        const text = renderTopology(t);
        for (const line of text.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
        for (const target of topology.targets) {
          // Linux bridge ports are drawn under their bridge; OVS ports say their bridge.
          const port =
            topology.name === 'ovs' || topology.name === 'ovn'
              ? `  ${target.backend} [^\\n]*\\n?[^\\n]*ovs br-int`
              : `[├└]─ ${target.backend} [^\\n]*\\n?[^\\n]*`;
          assert.match(
            text,
            new RegExp(`${port}\\s*⇄ ${lab.ns(target.role)}/eth0 ${target.address.replace(/\./g, '\\.')}`),
          );
          const pathText = renderPath(findPath(t, target.address), lab.state.hypervisor);
          assert.match(pathText, new RegExp(`${lab.ns(target.role)}\\s+eth0\\s+veth\\s+guest-nic\\s+yes`));
        }
        const hv = nsOf(t, lab.state.hypervisor);
        if (topology.name === 'ovs') {
          const ovs = hv.ovs!;
          assert.ok(ovs, 'the private OVS database of the lab is read');
          const br = (name: string) => ovs.bridges.find((b) => b.name === name)!;
          assert.deepEqual(
            br('br-int')
              .ports.map((p) => p.name)
              .sort(),
            ['br-int', 'patch-ex', 'vnet0', 'vnet1'],
          );
          assert.deepEqual(
            br('br-ex')
              .ports.map((p) => p.name)
              .sort(),
            ['br-ex', 'eth0', 'patch-int'],
          );
          assert.equal(br('br-int').datapath_type, 'netdev');
          const patch = br('br-int').ports.find((p) => p.name === 'patch-ex')!.interfaces[0]!;
          assert.deepEqual([patch.type, patch.options['peer']], ['patch', 'patch-int']);
          const vnet0 = br('br-int').ports.find((p) => p.name === 'vnet0')!.interfaces[0]!;
          assert.ok(vnet0.ofport > 0);
          assert.equal(vnet0.external_ids['attached-mac'], '52:54:00:00:00:11');
          assert.equal(ifOf(t, lab.state.hypervisor, 'vnet0').ovsBridge, 'br-int');
          assert.ok(existsSync(ovsDir(lab.state.hypervisor)));
        } else if (topology.name === 'neutron') {
          const ovs = hv.ovs!;
          const br = (name: string) => ovs.bridges.find((b) => b.name === name)!;
          const qvo = (vm: string) => neutronDevice('qvo', NEUTRON_PORTS[vm]!.portId);
          assert.deepEqual(
            br('br-int')
              .ports.map((p) => p.name)
              .sort(),
            ['br-int', 'int-br-ex', qvo('vm1'), qvo('vm2')],
          );
          assert.deepEqual(
            br('br-ex')
              .ports.map((p) => p.name)
              .sort(),
            ['br-ex', 'eth0', 'phy-br-ex'],
          );
          const port = br('br-int').ports.find((p) => p.name === qvo('vm1'))!;
          assert.equal(port.tag, 1, 'the local VLAN of the network');
          assert.deepEqual(
            [
              port.interfaces[0]!.external_ids['iface-id'],
              port.interfaces[0]!.external_ids['vm-uuid'],
              port.interfaces[0]!.external_ids['attached-mac'],
            ],
            [NEUTRON_PORTS['vm1']!.portId, NEUTRON_PORTS['vm1']!.vmUuid, 'fa:16:3e:00:00:11'],
          );
          // The hybrid plug: the tap is on qbr, and qbr's other port is qvb.
          const qbr = hv.bridges.find((b) => b.ifname === neutronDevice('qbr', NEUTRON_PORTS['vm1']!.portId))!;
          assert.deepEqual(qbr.ports.map((p) => p.ifname).sort(), [
            neutronDevice('qvb', NEUTRON_PORTS['vm1']!.portId),
            neutronDevice('tap', NEUTRON_PORTS['vm1']!.portId),
          ]);
          assert.ok(
            hv.firewall?.iptables.some((c) => c.chain.startsWith('neutron-openvswi-i')),
            'the hybrid firewall chains are read',
          );
          assert.equal(
            port.other_config['net_uuid'],
            '9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a',
            "the agent's Port other_config is read",
          );
          assert.equal(br('br-int').fail_mode, 'secure');
          assert.ok(
            br('br-int').flows.some((f) => f.actions.includes('mod_vlan_vid:1')),
            'the agent flows are read with their actions',
          );
          // The FDB (ovs-appctl fdb/show): the probes above made br-int learn vm1's MAC on its qvo in VLAN 1.
          assert.ok(
            br('br-int').fdb.some((e) => e.mac === 'fa:16:3e:00:00:11' && e.port === qvo('vm1') && e.vlan === 1),
            JSON.stringify(br('br-int').fdb),
          );
          assert.ok(
            ovs.stats &&
              ovs.stats.datapaths.length === 1 &&
              ovs.stats.datapaths[0]!.hit + ovs.stats.datapaths[0]!.missed > 0,
            'dpctl/show lookups',
          );
          // --target by Neutron port UUID, its 11-character prefix, or the instance UUID: the whole hybrid-plug chain.
          const chain = (q: string) => findPath(t, q).hops.map((h) => `${h.ifname}:${h.via}`);
          const want = [
            'eth0:start',
            'br-ex:bridge',
            'br-int:patch',
            `${qvo('vm1')}:bridge`,
            `${neutronDevice('qvb', NEUTRON_PORTS['vm1']!.portId)}:veth`,
            `${neutronDevice('qbr', NEUTRON_PORTS['vm1']!.portId)}:bridge`,
            `${neutronDevice('tap', NEUTRON_PORTS['vm1']!.portId)}:bridge`,
            'eth0:veth',
          ];
          for (const q of [
            NEUTRON_PORTS['vm1']!.portId,
            NEUTRON_PORTS['vm1']!.portId.slice(0, 11),
            NEUTRON_PORTS['vm1']!.vmUuid,
          ])
            assert.deepEqual(chain(q), want, q);
          const p = findPath(t, NEUTRON_PORTS['vm1']!.portId);
          assert.equal(p.target.type, 'neutron-port');
          assert.equal(p.target.netns, lab.ns('vm1'));
          assert.equal(findPath(t, NEUTRON_PORTS['vm1']!.vmUuid).target.type, 'vm-uuid');
          // The VLAN at each OVS step, the ports and the patch peer.
          const [, brEx, brInt, qvoHop] = p.hops;
          assert.deepEqual(
            [brEx!.ovs?.in?.name, brEx!.ovs?.out?.name, brEx!.ovs?.out?.peer, brEx!.ovs?.out?.peerBridge],
            ['eth0', 'phy-br-ex', 'int-br-ex', 'br-int'],
          );
          assert.deepEqual(
            [brInt!.ovs?.in?.name, brInt!.ovs?.out?.name, brInt!.ovs?.out?.vlan],
            ['int-br-ex', qvo('vm1'), 'access 1'],
          );
          assert.deepEqual(
            [qvoHop!.ovs?.port?.vlan, qvoHop!.ovs?.neutron?.portId, qvoHop!.ovs?.neutron?.vmUuid],
            ['access 1', NEUTRON_PORTS['vm1']!.portId, NEUTRON_PORTS['vm1']!.vmUuid],
          );
          assert.throws(() => findPath(t, '3f2a9c1e-0000'), /not found/);
        } else if (topology.name === 'ovn') {
          // ovn-controller bound every logical port to its Interface.
          const ifs = hv.ovs!.bridges.find((b) => b.name === 'br-int')!.ports.flatMap((p) => p.interfaces);
          for (const lp of ['client', 'vm1', 'vm2']) {
            const i = ifs.find((x) => x.external_ids['iface-id'] === lp);
            assert.equal(i?.external_ids['ovn-installed'], 'true', `${lp} bound by ovn-controller`);
          }
          const dbs = ovnDatabases(lab.state.hypervisor)!;
          const nb = await ovnNbState(host, lab.state.hypervisor, dbs.nb);
          assert.deepEqual(nb.ports.map((p) => `${p.logicalSwitch}/${p.name}`).sort(), [
            'ls1/client',
            'ls1/vm1',
            'ls1/vm2',
          ]);
          const tr = await ovnTrace(host, lab.state.hypervisor, dbs.sb, 'ls1', 'client', {
            proto: 'icmp',
            ethSrc: '02:00:00:00:00:64',
            ethDst: topology.targets[0]!.mac,
            ipSrc: '192.0.2.100',
            ipDst: '192.0.2.11',
          });
          assert.deepEqual([tr.verdict, tr.outport], ['output', 'vm1']);
        } else if (topology.name === 'bridged') {
          const br0 = hv.bridges.find((b) => b.ifname === 'br0')!;
          assert.deepEqual(br0.ports.map((p) => p.ifname).sort(), ['eth0', 'vnet0', 'vnet1']);
          assert.ok(br0.ports.every((p) => p.state === 'forwarding'));
          assert.equal(br0.stp, false);
          assert.equal(br0.forward_delay, 15);
          assert.equal(hv.sysctls?.bridge_nf_call_iptables, 1);
          // IPv6 targets resolve too.
          assert.equal(findPath(t, '2001:db8::12').target.netns, lab.ns('vm2'));
        } else {
          assert.equal(hv.sysctls?.ip_forward, 1);
          const dnat = hv.firewall?.iptables.find((c) => c.table === 'nat' && c.chain === 'DOCKER');
          assert.ok(
            dnat?.rules.some((r) => r.target === 'DNAT'),
            'the published port has its DNAT rule',
          );
          assert.ok(nsOf(t, lab.ns('ct1')).listeners?.some((l) => l.port === 9200));
        }
      });
      assert.deepEqual(leftoverNamespaces(instance), [], 'lab down removed every namespace');
      assert.equal(existsSync(ovsDir(`hd-${instance}-hv`)), false, 'and the private OVS directory');
      const daemons = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => /ovsdb-server|ovs-vswitchd/.test(l) && l.includes(`hd-${instance}-`));
      assert.deepEqual(daemons, [], 'and no ovsdb-server/ovs-vswitchd of the lab');
    });
  }
});
