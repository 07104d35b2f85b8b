import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readHopPackets } from '../../src/capture/packets.js';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { ReportSchema, type Report } from '../../src/report/schema.js';
import { host, withLab } from '../helpers/lab.js';

/**
 * What diagnose must say for every lab fault: the loss segment (roles of the
 * last hop that saw the traffic and the first that did not; null = none) and
 * the cause ranked first. A fault without an entry fails the test.
 */
interface Expectation {
  /** One status, or the ones it may be (a partial loss can lose all of three probes). */
  status: Report['status'] | Array<Report['status']>;
  loss: { direction: 'to-target' | 'from-target'; last: string | null; missing: string | null } | null;
  top: string;
  probes?: string[];
  size?: number;
}

const EXPECT: Record<string, Expectation> = {
  'firewall-drop': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'firewall-drop' },
  'guest-firewall': { status: 'broken', loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' }, top: 'firewall-drop' },
  'link-down': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'vm1/eth0' }, top: 'link-down' },
  'bridge-port-missing': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'bridge-port-missing' },
  'stp-blocking': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'stp-blocking' },
  'mac-conflict': { status: 'degraded', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'mac-conflict' },
  'ip-conflict': { status: 'degraded', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'ip-conflict' },
  'mtu-mismatch': { status: 'broken', loss: { direction: 'to-target', last: 'hv/vnet0', missing: 'vm1/eth0' }, top: 'mtu-mismatch', probes: ['icmp'], size: 1472 },
  'tc-filter': { status: 'broken', loss: { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' }, top: 'tc-filter' },
  'service-not-listening': { status: 'degraded', loss: null, top: 'service-not-listening', probes: ['icmp', 'tcp:80'] },
  'guest-arp-unresolved': { status: 'broken', loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' }, top: 'guest-arp-unresolved' },
  'guest-no-reply': { status: 'broken', loss: { direction: 'from-target', last: null, missing: 'vm1/eth0' }, top: 'guest-no-reply' },
  'upstream-no-traffic': { status: 'broken', loss: { direction: 'to-target', last: null, missing: 'hv/eth0' }, top: 'upstream-no-traffic' },
  'device-drops': { status: ['degraded', 'broken'], loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/vnet0' }, top: 'device-drops', probes: ['icmp'] },
  'promisc-dependent': { status: 'broken', loss: { direction: 'from-target', last: 'hv/veth9a1b2c3', missing: 'hv/docker0' }, top: 'promisc-dependent' },
  'ip-forward-disabled': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' }, top: 'ip-forward-disabled' },
  'rp-filter-drop': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' }, top: 'rp-filter-drop' },
  'nat-missing': { status: 'broken', loss: { direction: 'to-target', last: 'hv/eth0', missing: 'hv/docker0' }, top: 'nat-missing', probes: ['tcp:9200@198.51.100.1'] },
  'no-route': { status: 'broken', loss: { direction: 'from-target', last: null, missing: 'ct1/eth0' }, top: 'no-route' },
};

/** "hv/eth0" for hd-<instance>-hv/eth0. */
const short = (h: { netns: string; ifname: string } | null) => (h ? `${h.netns.replace(/^hd-[a-z0-9]+-/, '')}/${h.ifname}` : null);

describe('diagnose on every lab fault', { concurrency: 4 }, () => {
  for (const fault of FAULTS) {
    test(`${fault.name}: the right loss segment and top cause`, async () => {
      const want = EXPECT[fault.name];
      assert.ok(want, `no diagnose expectation written for fault ${fault.name}`);
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'd' }, async (lab) => {
        const target = findTopology(fault.topology).targets.find((t) => t.name === fault.target)!;
        const { report } = await diagnose({
          host,
          reader: readHopPackets,
          netns: lab.state.hypervisor,
          target: target.address,
          probes: want.probes ?? [],
          from: `netns:${lab.state.client}`,
          count: 3,
          passive: false,
          ...(want.size ? { size: want.size } : {}),
        });
        ReportSchema.parse(report);
        const got = report.loss ? { direction: report.loss.direction, last: short(report.loss.lastSeenHop), missing: short(report.loss.firstMissingHop) } : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        assert.ok(report.causes[0]!.evidence.length > 0 && report.causes[0]!.fix.length > 0, 'the top cause has evidence and a fix');
      });
    });
  }
});

describe('diagnose on a healthy lab', { concurrency: true }, () => {
  for (const topology of ['bridged', 'routed']) {
    test(`${topology}: ok, no loss, no causes, every probe answered`, async () => {
      await withLab({ topology, prefix: 'h' }, async (lab) => {
        const t = findTopology(topology).targets[0]!;
        const { report } = await diagnose({
          host,
          reader: readHopPackets,
          netns: lab.state.hypervisor,
          target: t.address,
          probes: t.published ? ['icmp', `tcp:${t.port}`, `tcp:${t.published.port}@${t.published.address}`] : [],
          from: `netns:${lab.state.client}`,
          count: 3,
          passive: false,
        });
        assert.equal(report.status, 'ok', JSON.stringify(report.causes));
        assert.equal(report.loss, null);
        assert.deepEqual(report.causes, []);
        assert.ok(report.probes.length >= 2, 'defaults probe icmp and the listening tcp port');
        assert.ok(report.probes.every((p) => p.answered === p.sent));
        const observed = report.hops.filter((h) => h.observed);
        assert.ok(observed.every((h) => h.toTarget > 0 && h.fromTarget > 0), 'every observed hop saw both directions');
        if (t.published) {
          const nat = report.traces.find((tr) => tr.changes.some((c) => c.includes('NAT-ed to 203.0.113.2:9200')));
          assert.ok(nat, 'the DNAT of the published port is shown as a change between hops');
        }
      });
    });
  }
});
