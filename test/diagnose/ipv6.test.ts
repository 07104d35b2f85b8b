import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { IPV6_FAULTS } from '../../src/lab/faults/ipv6.js';
import { ReportSchema, type Report } from '../../src/report/schema.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { hopdump, withLab } from '../helpers/lab.js';
import { EXPECT, shortHop, type Expectation } from './expectations.js';

/**
 * Where IPv6 differs from the IPv4 expectation: the DF probe's payload
 * (1500 - 40-byte IPv6 header - 8-byte ICMPv6 header), and what the top
 * cause's evidence must name so that a right answer for IPv4 reasons fails.
 */
const V6: Record<string, Partial<Expectation> & { evidence?: RegExp }> = {
  'mtu-mismatch': { size: 1452 },
  'firewall-drop': { evidence: /ip6tables-save -c: .*2001:db8::11\/128/ },
  'guest-firewall': { evidence: /ip6tables-save -c: .*ipv6-icmp|ip6tables-save -c: .*-p tcp/ },
  'ip-forward-disabled': { evidence: /net\.ipv6\.conf\.all\.forwarding = 0/ },
  'no-route': { evidence: /routes in .*: (?!.*default)/ },
  'tc-filter': { evidence: /ipv6|ip6|86dd/i },
};

/** Probes that name an IPv4 address (a published port) have no IPv6 form in the lab. */
const v6Probes = (probes: string[] | undefined): string[] => (probes ?? []).filter((p) => !p.includes('@'));

function story(report: Report, got: unknown): string {
  return `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')}`;
}

describe('IPv6: every lab fault says whether it runs over IPv6', () => {
  test('each fault has an entry in IPV6_FAULTS (true, or why not)', () => {
    for (const f of FAULTS) assert.ok(IPV6_FAULTS[f.name] !== undefined, `src/lab/faults/ipv6.ts has no entry for ${f.name}`);
    for (const name of Object.keys(IPV6_FAULTS)) assert.ok(FAULTS.some((f) => f.name === name), `IPV6_FAULTS names unknown fault ${name}`);
    for (const f of FAULTS.filter((x) => IPV6_FAULTS[x.name] === true)) {
      assert.ok(findTopology(f.topology).targets.find((t) => t.name === f.target)?.address6, `${f.name}: its target has no address6`);
    }
  });
});

describe('diagnose over IPv6 on every fault that can happen over IPv6', { concurrency: 2 }, () => {
  for (const fault of FAULTS.filter((f) => IPV6_FAULTS[f.name] === true)) {
    test(`${fault.name} over IPv6: the right loss segment and top cause`, async () => {
      const want = { ...EXPECT[fault.name]!, ...V6[fault.name] };
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'vs' }, async (lab) => {
        const target = findTopology(fault.topology).targets.find((t) => t.name === fault.target)!;
        const { report } = await diagnoseLab(lab, target.address6!, { probes: v6Probes(want.probes), ...(want.size ? { size: want.size } : {}) });
        ReportSchema.parse(report);
        assert.equal(report.target.address, target.address6);
        assert.ok(report.probes.length > 0 && report.probes.every((p) => p.address === target.address6), 'every probe went to the IPv6 address');
        const got = report.loss
          ? { direction: report.loss.direction, last: shortHop(report.loss.lastSeenHop, fault.topology), missing: shortHop(report.loss.firstMissingHop, fault.topology) }
          : null;
        assert.deepEqual(got, want.loss, story(report, got));
        assert.equal(report.causes[0]?.id, want.top, story(report, got));
        assert.ok([want.status].flat().includes(report.status), story(report, got));
        const top = report.causes[0]!;
        assert.ok(top.evidence.length > 0 && top.fix.length > 0, 'the top cause has evidence and a fix');
        if (want.evidence) assert.match(top.evidence.join('\n'), want.evidence);
      });
    });
  }
});

describe('diagnose over IPv6 on a healthy lab', { concurrency: 2 }, () => {
  for (const topology of ['bridged', 'routed']) {
    test(`${topology}: ok, no loss, no causes, icmp6 and tcp over IPv6 answered`, async () => {
      await withLab({ topology, prefix: 'vs' }, async (lab) => {
        const t = findTopology(topology).targets[0]!;
        const { report } = await diagnoseLab(lab, t.address6!);
        assert.equal(report.status, 'ok', JSON.stringify(report.causes));
        assert.equal(report.loss, null);
        assert.deepEqual(report.causes, []);
        // The default probes: ping -6 and a TCP connect to the port the IPv6 listener holds.
        assert.deepEqual(report.probes.map((p) => p.kind).sort(), ['icmp', 'tcp']);
        assert.ok(report.probes.every((p) => p.address === t.address6 && p.answered === p.sent), JSON.stringify(report.probes));
        const observed = report.hops.filter((h) => h.observed);
        assert.ok(observed.every((h) => h.toTarget > 0 && h.fromTarget > 0), 'every observed hop saw both directions');
        assert.ok(report.traces.some((tr) => /IP6 .* > 2001:db8:.*ICMP6, echo request/.test(tr.summary)), 'the echo requests were followed across hops');
      });
    });
  }
});

describe('the CLI with an IPv6 target', { concurrency: 2 }, () => {
  test('hopdump path --target 2001:db8::11 --json: uplink to the guest NIC holding it', async () => {
    await withLab({ topology: 'bridged', prefix: 'vs' }, async (lab) => {
      const r = await hopdump(['path', '--netns', lab.state.hypervisor, '--target', '2001:db8::11', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const path = JSON.parse(r.stdout) as { complete: boolean; target: { netns: string; ifname: string; address?: string }; hops: Array<{ netns: string; ifname: string }> };
      assert.equal(path.target.address, '2001:db8::11');
      assert.equal(path.target.netns, lab.ns('vm1'));
      assert.deepEqual(path.hops.map((h) => shortHop(h, 'bridged')), ['hv/eth0', 'hv/br0', 'hv/vnet0', 'vm1/eth0']);
    });
  });

  test('hopdump diagnose --target IPV6 --json: exit 1, the ip6tables rule named', async () => {
    await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'vs' }, async (lab) => {
      const r = await hopdump([
        'diagnose', '--netns', lab.state.hypervisor, '--target', '2001:db8::11', '--from', `netns:${lab.state.client}`,
        '--probe', 'icmp', '--probe', 'tcp:80', '--count', '2', '--json', '--out', '-',
      ]);
      assert.equal(r.code, 1, r.stderr);
      const report = ReportSchema.parse(JSON.parse(r.stdout));
      assert.equal(report.status, 'broken');
      assert.equal(shortHop(report.loss?.firstMissingHop, 'bridged'), 'hv/vnet0');
      assert.equal(report.causes[0]?.id, 'firewall-drop');
      assert.match(report.causes[0]!.summary, /^ip6tables filter\/FORWARD/);
      assert.ok(report.causes[0]!.fix.some((f) => f.includes('ip6tables -t filter -D FORWARD')), report.causes[0]!.fix.join('\n'));
    });
  });

  test('hopdump diagnose --target over IPv6 on a routed host: forwarding off is net.ipv6.conf.all.forwarding', async () => {
    await withLab({ topology: 'routed', fault: 'ip-forward-disabled', prefix: 'vs' }, async (lab) => {
      const r = await hopdump(['diagnose', '--netns', lab.state.hypervisor, '--target', '2001:db8:7113::2', '--from', `netns:${lab.state.client}`, '--probe', 'icmp', '--count', '2', '--json', '--out', '-']);
      assert.equal(r.code, 1, r.stderr);
      const report = ReportSchema.parse(JSON.parse(r.stdout));
      assert.equal(report.causes[0]?.id, 'ip-forward-disabled');
      assert.ok(report.causes[0]!.fix.some((f) => f.includes('sysctl -w net.ipv6.conf.all.forwarding=1')));
    });
  });
});
