import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { withLab } from '../helpers/lab.js';
import { EXPECT, faultAddress, shortHop } from './expectations.js';

// Each fault in the family it breaks: an IPv6-only fault (family 6, NDP) over its target's address6.
describe('diagnose on every lab fault', { concurrency: 4 }, () => {
  for (const fault of FAULTS) {
    test(`${fault.name}${fault.family === 6 ? ' (over IPv6)' : ''}: the right loss segment and top cause`, async () => {
      const want = EXPECT[fault.name];
      assert.ok(want, `no diagnose expectation written for fault ${fault.name}`);
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'd' }, async (lab) => {
        const target = findTopology(fault.topology).targets.find((t) => t.name === fault.target)!;
        const address = faultAddress(fault, target);
        const { report } = await diagnoseLab(lab, address, {
          probes: want.probes ?? [],
          ...(want.size ? { size: want.size } : {}),
          ...(want.from ? { from: `netns:${lab.ns(want.from)}` } : {}),
        });
        ReportSchema.parse(report);
        assert.equal(report.target.address, address);
        const got = report.loss
          ? {
              direction: report.loss.direction,
              last: shortHop(report.loss.lastSeenHop, fault.topology),
              missing: shortHop(report.loss.firstMissingHop, fault.topology),
            }
          : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        assert.ok(
          report.causes[0].evidence.length > 0 && report.causes[0].fix.length > 0,
          'the top cause has evidence and a fix',
        );
      });
    });
  }
});

describe('diagnose on a healthy lab', { concurrency: true }, () => {
  for (const topology of ['bridged', 'routed', 'ovs', 'neutron', 'ovn', 'docker']) {
    test(`${topology}: ok, no loss, no causes, every probe answered`, async () => {
      await withLab({ topology, prefix: 'h' }, async (lab) => {
        const t = findTopology(topology).targets[0]!;
        const probes = t.published ? ['icmp', `tcp:${t.port}`, `tcp:${t.published.port}@${t.published.address}`] : [];
        const { report } = await diagnoseLab(lab, t.address, { probes });
        assert.equal(report.status, 'ok', JSON.stringify(report.causes));
        assert.equal(report.loss, null);
        assert.deepEqual(report.causes, []);
        assert.ok(report.probes.length >= 2, 'defaults probe icmp and the listening tcp port');
        assert.ok(report.probes.every((p) => p.answered === p.sent));
        const observed = report.hops.filter((h) => h.observed);
        assert.ok(
          observed.every((h) => h.toTarget > 0 && h.fromTarget > 0),
          'every observed hop saw both directions',
        );
        if (topology === 'ovn') {
          assert.ok(
            report.ovnTraces?.some((x) => x.direction === 'to-target' && x.verdict === 'output' && x.outport === 'vm1'),
            'ovn-trace: the logical pipeline delivers to vm1',
          );
        }
        if (topology === 'ovs' || topology === 'neutron' || topology === 'ovn') {
          // Inside OVS, ofproto/trace stands in for the captures: both directions reach their port.
          const traces = report.ovsTraces ?? [];
          const exit = report.path.hops.filter((h) => h.kind === 'openvswitch').at(-1)!.ovs!.out!.name;
          assert.ok(
            traces.some(
              (x) => x.direction === 'to-target' && x.proto === 'icmp' && !x.synthesized && x.outputs.includes(exit),
            ),
            JSON.stringify(traces.map((x) => [x.direction, x.proto, x.outputs])),
          );
          assert.ok(
            traces.some(
              (x) =>
                x.direction === 'from-target' && x.proto === 'icmp' && x.outputs.includes(report.path.hops[0]!.ifname),
            ),
          );
        }
        if (t.published) {
          const nat = report.traces.find((tr) => tr.changes.some((c) => c.includes('NAT-ed to 203.0.113.2:9200')));
          assert.ok(nat, 'the DNAT of the published port is shown as a change between hops');
        }
      });
    });
  }
});
