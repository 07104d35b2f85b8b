import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFilter } from '../../src/capture/bpf.js';
import { readHopPackets } from '../../src/capture/packets.js';
import { runSession } from '../../src/capture/session.js';
import { runChecks } from '../../src/checks/index.js';
import { discover, sampleCounters } from '../../src/collect/discover.js';
import { correlate } from '../../src/correlate/correlate.js';
import { findPath } from '../../src/path/find.js';
import type { ProbeReport } from '../../src/report/schema.js';
import { ReportSchema } from '../../src/report/schema.js';
import { renderReport } from '../../src/report/text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab, type RunningLab } from '../helpers/lab.js';
import { EXPECT, shortHop } from './expectations.js';

/**
 * Issue 16 §4: ARP and NDP are evidence. When the client cannot resolve the
 * target, neighbour resolution is the only traffic, and it must localize the
 * break as IP would: at the guest NIC when requests reach it unanswered, on
 * the way back when replies are dropped.
 */
describe('ARP-only breaks (lab faults)', { concurrency: 1 }, () => {
  for (const fault of ['guest-drops-arp', 'guest-arp-ignore', 'arp-reply-dropped']) {
    test(`${fault}: localized by ARP alone, right top cause, never "nowhere"`, async () => {
      const want = EXPECT[fault]!;
      await withLab({ topology: 'bridged', fault, prefix: 'ar' }, async (lab) => {
        const { report } = await diagnoseLab(lab, '192.0.2.11');
        ReportSchema.parse(report);
        const got = report.loss ? { direction: report.loss.direction, last: shortHop(report.loss.lastSeenHop, 'bridged'), missing: shortHop(report.loss.firstMissingHop, 'bridged') } : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        // No IP packet reached the target: the hop counts show ARP only.
        assert.ok(report.hops.every((h) => h.toTarget === 0), story);
        assert.doesNotMatch(renderReport(report), /nowhere/);
        const top = report.causes[0]!;
        if (fault === 'guest-drops-arp') assert.match(top.evidence.join('\n'), /nft -a list chain arp hd_guest input/, story);
        if (fault === 'guest-arp-ignore') assert.match(top.evidence.join('\n'), /arp_ignore=8/, story);
        if (fault === 'arp-reply-dropped') {
          // ebtables-nft writes the bridge family: the rule, its counter, and the hop it acts at.
          assert.match(top.summary, /nft bridge filter FORWARD in hd-ar[0-9a-f]+-hv drops/, story);
          assert.deepEqual(shortHop(top.device, 'bridged'), 'hv/eth0');
          assert.match(report.instead.join('\n'), /ARP\/NDP replies from 192\.0\.2\.11 seen at hd-ar[0-9a-f]+-hv\/vnet0 never reached hd-ar[0-9a-f]+-hv\/eth0/);
        }
      });
    });
  }
});

describe('ARP replies dropped by a tc filter', { concurrency: 1 }, () => {
  test('a tc ingress filter on vnet0 redirects ARP away (this kernel has no gact drop): from-target loss between vnet0 and the uplink, tc-filter', async () => {
    await withLab({ topology: 'bridged', prefix: 'ar' }, async (lab) => {
      const hv = lab.state.hypervisor;
      await host.run(['ip', 'neigh', 'flush', 'dev', 'eth0'], { netns: lab.ns('client') });
      await host.run(['tc', 'qdisc', 'add', 'dev', 'vnet0', 'ingress'], { netns: hv });
      await host.run(['tc', 'filter', 'add', 'dev', 'vnet0', 'parent', 'ffff:', 'protocol', 'arp', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', 'vnet1'], { netns: hv });
      const { report } = await diagnoseLab(lab, '192.0.2.11');
      const got = report.loss ? { direction: report.loss.direction, last: shortHop(report.loss.lastSeenHop, 'bridged'), missing: shortHop(report.loss.firstMissingHop, 'bridged') } : null;
      const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')}`;
      assert.deepEqual(got, { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' }, story);
      assert.equal(report.causes[0]?.id, 'tc-filter', story);
      assert.equal(report.status, 'broken');
    });
  });
});

/**
 * NDP counterparts. diagnose takes IPv4 targets only in this tree, so these
 * run its pipeline (captures on the path's hops, the client's ping -6 as the
 * probe, correlation and checks) with the target's IPv6 address: the packets
 * are real captures, the verdict the correlator's and the checks'.
 */
async function diagnoseV6(lab: RunningLab) {
  const topology = await discover({ host, netns: lab.state.hypervisor });
  const path = findPath(topology, '192.0.2.11');
  const targetAddresses = ['2001:db8::11'];
  const session = await runSession({
    host,
    hops: path.hops,
    filter: buildFilter(targetAddresses),
    reader: readHopPackets,
    probes: [{ kind: 'icmp', address: '2001:db8::11', count: 3 }],
    fromNetns: lab.ns('client'),
    hypervisor: lab.state.hypervisor,
    promiscuous: false,
  });
  const correlation = correlate({
    hops: path.hops,
    observed: session.observed,
    packets: session.packets,
    targetAddresses,
    probeAddresses: [],
    nat: false,
    sourceAddresses: ['2001:db8::100'],
    startNs: BigInt(session.windowStartedAt) * 1_000_000n,
  });
  const after = await sampleCounters(host, topology);
  const probes: ProbeReport[] = session.probes.map((p) => ({ kind: p.spec.kind, address: p.spec.address, command: p.command, from: 'client', sent: p.sent, answered: p.answered, outcome: p.outcome, detail: p.detail }));
  const { causes } = await runChecks({ topology, after, path, correlation, probes, targetAddresses, probesFromOutside: true, passive: false, sourceAddresses: ['2001:db8::100'] });
  const loss = correlation.loss ? { direction: correlation.loss.direction, last: shortHop(correlation.loss.lastSeenHop, 'bridged'), missing: shortHop(correlation.loss.firstMissingHop, 'bridged') } : null;
  return { correlation, causes, loss, probes, story: `loss=${JSON.stringify(loss)} causes=${causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')} instead=${correlation.instead.join('; ')}` };
}

const nft = (lab: RunningLab, role: string, lines: string[]) => host.run(['nft', '-f', '-'], { netns: lab.ns(role), input: `${lines.join('\n')}\n` });

describe('NDP-only breaks (captured in a lab, IPv6 target)', { concurrency: 1 }, () => {
  test('ndp-reply-dropped: a bridge rule drops the guest\'s neighbour advertisements: from-target loss between vnet0 and the uplink, firewall-drop', async () => {
    await withLab({ topology: 'bridged', prefix: 'ar' }, async (lab) => {
      await host.run(['ip', '-6', 'neigh', 'flush', 'dev', 'eth0'], { netns: lab.ns('client') });
      await nft(lab, 'hv', [
        'table bridge hd_nd {',
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        '    ether saddr 52:54:00:00:00:11 icmpv6 type nd-neighbor-advert counter drop',
        '  }',
        '}',
      ]);
      const r = await diagnoseV6(lab);
      assert.equal(r.probes[0]!.answered, 0, r.story);
      assert.deepEqual(r.loss, { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' }, r.story);
      assert.equal(r.causes[0]?.id, 'firewall-drop', r.story);
      assert.match(r.causes[0]!.summary, /nft bridge hd_nd forward/, r.story);
      assert.ok(r.correlation.hopCounts.every((h) => h.toTarget === 0), r.story);
    });
  });

  test('guest-drops-ns: the guest drops neighbour solicitations: from-target loss at its NIC, firewall-drop in the guest', async () => {
    await withLab({ topology: 'bridged', prefix: 'ar' }, async (lab) => {
      await host.run(['ip', '-6', 'neigh', 'flush', 'dev', 'eth0'], { netns: lab.ns('client') });
      await nft(lab, 'vm1', [
        'table ip6 hd_guest {',
        '  chain input {',
        '    type filter hook input priority 0; policy accept;',
        '    icmpv6 type nd-neighbor-solicit counter drop',
        '  }',
        '}',
      ]);
      const r = await diagnoseV6(lab);
      assert.equal(r.probes[0]!.answered, 0, r.story);
      assert.deepEqual(r.loss, { direction: 'from-target', last: null, missing: 'vm1/eth0' }, r.story);
      assert.equal(r.causes[0]?.id, 'firewall-drop', r.story);
      assert.match(r.causes[0]!.summary, /nft ip6 hd_guest input/, r.story);
      assert.ok(r.causes.some((c) => c.id === 'guest-arp-unresolved'), r.story);
    });
  });
});
