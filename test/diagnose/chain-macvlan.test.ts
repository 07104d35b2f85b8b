import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';
import { EXPECT, shortHop } from './expectations.js';

/** Issue 16 §3 and §3b: the macvlan and bridge-chain labs, healthy and with their faults. */
const MINE = new Set(['macvlan', 'chain']);

describe('diagnose on the macvlan and chain labs', { concurrency: 2 }, () => {
  for (const fault of FAULTS.filter((f) => MINE.has(f.topology))) {
    test(`${fault.name}: the right loss segment and top cause, localized where it acts`, async () => {
      const want = EXPECT[fault.name]!;
      assert.ok(want, `no diagnose expectation written for fault ${fault.name}`);
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'ch' }, async (lab) => {
        const target = findTopology(fault.topology).targets.find((t) => t.name === fault.target)!;
        const { report } = await diagnoseLab(lab, target.address, {
          probes: want.probes ?? [],
          ...(want.from ? { from: `netns:${lab.ns(want.from)}` } : {}),
        });
        ReportSchema.parse(report);
        const got = report.loss
          ? {
              direction: report.loss.direction,
              last: shortHop(report.loss.lastSeenHop, fault.topology),
              missing: shortHop(report.loss.firstMissingHop, fault.topology),
            }
          : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}@${shortHop(c.device, fault.topology)}`).join(',')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        const top = report.causes[0];
        assert.ok(top.evidence.length > 0 && top.fix.length > 0, 'the top cause has evidence and a fix');
        const at = shortHop(top.device, fault.topology);
        if (fault.topology === 'macvlan') {
          // Localized at the lower device, with the mode and the parent as evidence.
          assert.equal(at, 'hv/eth0', story);
          assert.ok(
            top.evidence.some((e) => /macvlan mode (bridge|private), lower device hd-\w+-hv\/eth0/.test(e)),
            top.evidence.join('\n'),
          );
          assert.ok(
            top.fix.some((f) =>
              (fault.name === 'macvlan-private'
                ? /type macvlan mode bridge/
                : /ip link add mac0 link eth0 type macvlan mode bridge/
              ).test(f),
            ),
            top.fix.join('\n'),
          );
        }
        if (fault.topology === 'chain') {
          // The guest's MAC on vmbr0 is learned on fwpr100p0, the port towards the firewall bridge: no mac-conflict.
          assert.ok(!report.causes.some((c) => c.id === 'mac-conflict'), story);
        }
        if (fault.name === 'chain-firewall-drop') {
          assert.equal(at, 'hv/tap100i0', story);
          assert.ok(
            top.evidence.some((e) => e.includes('--physdev-out tap100i0')),
            top.evidence.join('\n'),
          );
        } else if (fault.name === 'chain-stp-blocking') {
          assert.equal(at, 'hv/fwpr100p0', story);
        }
      });
    });
  }

  const healthy: Array<{ topology: string; from?: string; why: string }> = [
    { topology: 'macvlan', why: 'from the client on the wire' },
    // The host reaches its macvlan containers through mac0, a bridge-mode sibling of theirs.
    { topology: 'macvlan', from: 'hv', why: 'from the host through its mac0 shim' },
    { topology: 'macvlan', from: 'ct2', why: 'from the sibling container (bridge mode)' },
    // The guest's MAC is learned on fwpr100p0 (towards the firewall bridge), not on its tap: no mac-conflict.
    { topology: 'chain', why: 'through vmbr0 and the firewall bridge fwbr100i0' },
  ];
  for (const h of healthy) {
    test(`${h.topology} healthy ${h.why}: ok, no loss, no causes`, async () => {
      await withLab({ topology: h.topology, prefix: 'ch' }, async (lab) => {
        const t = findTopology(h.topology).targets[0]!;
        const { report } = await diagnoseLab(lab, t.address, h.from ? { from: `netns:${lab.ns(h.from)}` } : {});
        ReportSchema.parse(report);
        assert.equal(report.status, 'ok', JSON.stringify(report.causes));
        assert.equal(report.loss, null);
        assert.deepEqual(report.causes, []);
        assert.ok(report.probes.length >= 2 && report.probes.every((p) => p.answered === p.sent));
        if (!h.from) {
          const observed = report.hops.filter((x) => x.observed);
          assert.ok(
            observed.length >= 2 && observed.every((x) => x.toTarget > 0 && x.fromTarget > 0),
            'every observed hop saw both directions',
          );
        }
        if (h.topology === 'chain') {
          const t2 = await lab.discover();
          const vmbr0 = t2.namespaces
            .find((n) => n.id === lab.state.hypervisor)!
            .bridges.find((b) => b.ifname === 'vmbr0')!;
          assert.ok(
            vmbr0.fdb.some((e) => e.mac === t.mac && e.ifname === 'fwpr100p0'),
            `vmbr0 learned the guest's MAC on fwpr100p0: ${JSON.stringify(vmbr0.fdb)}`,
          );
        }
      });
    });
  }
});

describe('firewall attribution on a chain of bridges', { concurrency: 2 }, () => {
  test('an nft bridge rule on the outer bridge port fwpr100p0 is located there', async () => {
    await withLab({ topology: 'chain', prefix: 'ch' }, async (lab) => {
      const hv = lab.state.hypervisor;
      await host.run(['nft', 'add', 'table', 'bridge', 'pvefw'], { netns: hv });
      await host.run(
        ['nft', 'add', 'chain', 'bridge', 'pvefw', 'forward', '{ type filter hook forward priority 0; }'],
        { netns: hv },
      );
      await host.run(
        [
          'nft',
          'add',
          'rule',
          'bridge',
          'pvefw',
          'forward',
          'oifname',
          'fwpr100p0',
          'ip',
          'daddr',
          '203.0.113.100',
          'counter',
          'drop',
        ],
        { netns: hv },
      );
      const { report } = await diagnoseLab(lab, '203.0.113.100');
      const story = report.causes.map((c) => `${c.id}@${shortHop(c.device, 'chain')}`).join(',');
      assert.equal(report.status, 'broken');
      assert.deepEqual(
        [shortHop(report.loss?.lastSeenHop, 'chain'), shortHop(report.loss?.firstMissingHop, 'chain')],
        ['hv/eth0', 'hv/fwpr100p0'],
      );
      assert.equal(report.causes[0]?.id, 'firewall-drop', story);
      assert.equal(shortHop(report.causes[0].device, 'chain'), 'hv/fwpr100p0', story);
      assert.ok(report.causes[0].fix.some((f) => f.includes('nft delete rule bridge pvefw forward handle')));
    });
  });
});

describe('bridge-port-missing on a chain of bridges', { concurrency: 2 }, () => {
  test('fwln100i0 off the firewall bridge: the gap is between fwln100i0 and fwbr100i0, the fix puts it back there', async () => {
    await withLab({ topology: 'chain', prefix: 'ch' }, async (lab) => {
      await host.run(['ip', 'link', 'set', 'fwln100i0', 'nomaster'], { netns: lab.state.hypervisor });
      const { report } = await diagnoseLab(lab, '203.0.113.100');
      const story = report.causes.map((c) => `${c.id}@${shortHop(c.device, 'chain')}`).join(',');
      assert.equal(report.path.complete, false);
      assert.deepEqual(
        report.path.hops.map((h) => `${h.ifname}:${h.via}`),
        [
          'eth0:start',
          'vmbr0:bridge',
          'fwpr100p0:bridge',
          'fwln100i0:veth',
          'fwbr100i0:gap',
          'tap100i0:bridge',
          'eth0:veth',
        ],
      );
      assert.equal(report.status, 'broken');
      assert.equal(report.causes[0]?.id, 'bridge-port-missing', story);
      assert.equal(shortHop(report.causes[0].device, 'chain'), 'hv/fwln100i0', story);
      assert.ok(
        report.causes[0].fix.some((f) => f.endsWith('ip link set fwln100i0 master fwbr100i0')),
        report.causes[0].fix.join('\n'),
      );
    });
  });
});

describe('a libvirt guest on a direct (macvtap) interface', { concurrency: 1 }, () => {
  test('vm-macvtap: discovered and pathed with no bridge; ok from the client, macvlan-isolation from the host', async () => {
    await withLab({ topology: 'vm-macvtap', prefix: 'ch' }, async (lab) => {
      const hv = lab.state.hypervisor;
      const t = await lab.discover();
      const nic = t.domains?.find((d) => d.name === 'vm1')?.interfaces[0];
      assert.deepEqual(
        [nic?.type, nic?.sourceDev, nic?.sourceMode, nic?.targetDev],
        ['direct', 'eth0', 'bridge', 'macvtap0'],
      );
      const macvtap = t.namespaces.find((n) => n.id === hv)!.interfaces.find((i) => i.ifname === 'macvtap0')!;
      assert.deepEqual(
        [macvtap.kind, macvtap.mode, macvtap.lower?.netns, macvtap.lower?.ifname],
        ['macvtap', 'bridge', hv, 'eth0'],
      );

      const ok = await diagnoseLab(lab, 'vm1');
      assert.deepEqual(
        ok.report.path.hops.map((h) => `${h.netns}/${h.ifname}:${h.role}:${h.via}`),
        [`${hv}/eth0:uplink:start`, `${hv}/macvtap0:backend:macvlan`, 'guest:vm1/eth0:guest-nic:veth'],
      );
      assert.equal(ok.report.status, 'ok', JSON.stringify(ok.report.causes));
      // The macvtap has the guest's MAC and eth0 is promiscuous for it: neither is a cause.
      assert.deepEqual(ok.report.causes, []);
      assert.ok(
        ok.report.hops.filter((h) => h.observed).every((h) => h.toTarget > 0 && h.fromTarget > 0),
        'uplink, macvtap and guest NIC each saw both directions',
      );

      const { report } = await diagnoseLab(lab, 'vm1', { from: `netns:${hv}` });
      const story = `${report.status} causes=${report.causes.map((c) => `${c.id}@${shortHop(c.device, 'vm-macvtap')}`).join(',')}`;
      assert.equal(report.status, 'broken', story);
      assert.equal(report.causes[0]?.id, 'macvlan-isolation', story);
      assert.equal(shortHop(report.causes[0].device, 'vm-macvtap'), 'hv/eth0', story);
      assert.ok(
        report.causes[0].evidence.some((e) => e.includes('macvtap mode bridge, lower device')),
        report.causes[0].evidence.join('\n'),
      );
    });
  });
});
