import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReportSchema } from '../../src/model/report.js';
import { renderReport } from '../../src/report/text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';
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
        const got = report.loss
          ? {
              direction: report.loss.direction,
              last: shortHop(report.loss.lastSeenHop, 'bridged'),
              missing: shortHop(report.loss.firstMissingHop, 'bridged'),
            }
          : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        // No IP packet reached the target: the hop counts show ARP only.
        assert.ok(
          report.hops.every((h) => h.toTarget === 0),
          story,
        );
        assert.doesNotMatch(renderReport(report), /nowhere/);
        const top = report.causes[0];
        if (fault === 'guest-drops-arp')
          assert.match(top.evidence.join('\n'), /nft -a list chain arp hd_guest input/, story);
        if (fault === 'guest-arp-ignore') assert.match(top.evidence.join('\n'), /arp_ignore=8/, story);
        if (fault === 'arp-reply-dropped') {
          // ebtables-nft writes the bridge family: the rule, its counter, and the hop it acts at.
          assert.match(top.summary, /nft bridge filter FORWARD in hd-[a-z0-9]+-hv drops/, story);
          assert.deepEqual(shortHop(top.device, 'bridged'), 'hv/eth0');
          assert.match(
            report.instead.join('\n'),
            /ARP\/NDP replies from 192\.0\.2\.11 seen at hd-[a-z0-9]+-hv\/vnet0 never reached hd-[a-z0-9]+-hv\/eth0/,
          );
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
      await host.run(
        [
          'tc',
          'filter',
          'add',
          'dev',
          'vnet0',
          'parent',
          'ffff:',
          'protocol',
          'arp',
          'prio',
          '1',
          'u32',
          'match',
          'u32',
          '0',
          '0',
          'action',
          'mirred',
          'egress',
          'redirect',
          'dev',
          'vnet1',
        ],
        { netns: hv },
      );
      const { report } = await diagnoseLab(lab, '192.0.2.11');
      const got = report.loss
        ? {
            direction: report.loss.direction,
            last: shortHop(report.loss.lastSeenHop, 'bridged'),
            missing: shortHop(report.loss.firstMissingHop, 'bridged'),
          }
        : null;
      const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')}`;
      assert.deepEqual(got, { direction: 'from-target', last: 'hv/vnet0', missing: 'hv/eth0' }, story);
      assert.equal(report.causes[0]?.id, 'tc-filter', story);
      assert.equal(report.status, 'broken');
    });
  });
});

/**
 * The NDP counterparts, as lab faults diagnosed over the target's IPv6
 * address (both faults are IPv6 only: family 6). The client has no neighbour
 * entry for 2001:db8::11, so neighbour solicitations and advertisements are
 * the only packets: they must localize the break as ARP does.
 */
describe('NDP-only breaks (lab faults, IPv6 target)', { concurrency: 1 }, () => {
  for (const fault of ['guest-drops-ns', 'ndp-reply-dropped']) {
    test(`${fault}: localized by NDP alone, right top cause, the rule named`, async () => {
      const want = EXPECT[fault]!;
      await withLab({ topology: 'bridged', fault, prefix: 'ar' }, async (lab) => {
        const { report } = await diagnoseLab(lab, '2001:db8::11');
        ReportSchema.parse(report);
        const got = report.loss
          ? {
              direction: report.loss.direction,
              last: shortHop(report.loss.lastSeenHop, 'bridged'),
              missing: shortHop(report.loss.firstMissingHop, 'bridged'),
            }
          : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.summary}`).join(' | ')} instead=${report.instead.join('; ')}`;
        assert.ok(
          report.probes.length > 0 && report.probes.every((p) => p.address === '2001:db8::11' && p.answered === 0),
          story,
        );
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        // No IPv6 packet but NDP reached the target: the hop counts show neighbour discovery only.
        assert.ok(
          report.hops.every((h) => h.toTarget === 0),
          story,
        );
        assert.doesNotMatch(renderReport(report), /nowhere/);
        const top = report.causes[0];
        if (fault === 'guest-drops-ns') {
          assert.match(top.summary, /nft ip6 hd_guest input/, story);
          assert.ok(
            report.causes.some((c) => c.id === 'guest-arp-unresolved'),
            story,
          );
        }
        if (fault === 'ndp-reply-dropped') {
          assert.match(top.summary, /nft bridge hd_nd forward/, story);
          assert.match(
            report.instead.join('\n'),
            /ARP\/NDP replies from 2001:db8::11 seen at hd-[a-z0-9]+-hv\/vnet0 never reached hd-[a-z0-9]+-hv\/eth0/,
            story,
          );
        }
      });
    });
  }
});
