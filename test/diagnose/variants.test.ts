import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, labTopology, variantOf } from '../../src/lab/lab.js';
import { QEMU_VARIANT_TOPOLOGIES, VARIANT_TOPOLOGIES, variantIfname, type VariantPlan } from '../../src/lab/variant.js';
import type { LabFault } from '../../src/lab/types.js';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';
import { runSeed } from '../helpers/variant.js';
import { canonicalHop, expectationFor, faultAddress, variantProbe } from './expectations.js';

// Every netns-based fault once more on a host that is not the lab: other names, ranges, MACs and
// ports, drawn from the commit's seed (replay one with HOPDUMP_VARIANT=SEED or `lab up --variant SEED`).
const seed = runSeed();
const topologies: readonly string[] = VARIANT_TOPOLOGIES.filter((t) => !QEMU_VARIANT_TOPOLOGIES.includes(t));

/**
 * The QEMU topologies (a TCG guest: tens of seconds per lab) run here only in part: the healthy vm
 * lab and two of its faults, one inside the guest and one on the host, on whatever kind of guest
 * the seed draws (`make bench-faults VARIANTS=N` runs all of them; docs/lab.md "Variants").
 */
const QEMU_FAULTS = ['vm-guest-firewall', 'vm-tap-detached'];
const qemuSkip = (() => {
  for (const p of ['qemu-system-x86_64', 'libvirtd', 'virsh'])
    if (!host.hasProgram(p)) return `${p} not installed (make deps)`;
  return false;
})();

function faultTest(fault: LabFault): () => Promise<void> {
  return async () => {
    await withLab({ topology: fault.topology, fault: fault.name, prefix: 'v', variant: seed }, async (lab) => {
      const plan = variantOf(lab.state)!;
      // A QEMU guest without an agent: what hopdump can prove from outside it.
      const want = expectationFor(fault.name, plan)!;
      const target = labTopology(lab.state).targets.find((t) => t.name === fault.target)!;
      const probes = (want.probes ?? []).map((p) => variantProbe(p, plan));
      // An IPv6-only fault (family 6) over the variant's IPv6 address of its target.
      const address = faultAddress(fault, target);
      const { report } = await diagnoseLab(lab, address, {
        probes,
        ...(want.size ? { size: want.size } : {}),
        ...(want.from ? { from: `netns:${lab.ns(want.from)}` } : {}),
      });
      ReportSchema.parse(report);
      assert.equal(report.target.address, address);
      const got = report.loss
        ? {
            direction: report.loss.direction,
            last: canonicalHop(report.loss.lastSeenHop, fault.topology, plan, {
              end: 'last',
              direction: report.loss.direction,
            }),
            missing: canonicalHop(report.loss.firstMissingHop, fault.topology, plan, {
              end: 'missing',
              direction: report.loss.direction,
            }),
          }
        : null;
      const story = `seed ${seed} (${JSON.stringify(plan.drawn)}): ${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')} hops=${report.hops.map((h) => `${h.ifname}:${h.toTarget}/${h.fromTarget}`).join(' ')} probes=${report.probes.map((p) => `${p.kind}${p.port ? `:${p.port}` : ''}:${p.answered}/${p.sent}`).join(' ')}`;
      assert.deepEqual(got, want.loss, story);
      assert.equal(report.causes[0]?.id, want.top, story);
      assert.ok([want.status].flat().includes(report.status), story);
      // The top cause names what it blames as this host names it.
      const named = namedByTopCause(fault.name, fault.target, plan);
      if (named) {
        const top = report.causes[0];
        assert.ok(
          `${top.summary}\n${top.fix.join('\n')}`.includes(named),
          `${story}: the top cause names ${named}: ${top.summary} | ${top.fix.join(' | ')}`,
        );
      }
    });
  };
}

function healthyTest(topology: string): () => Promise<void> {
  return async () => {
    await withLab({ topology, prefix: 'v', variant: seed }, async (lab) => {
      const t = labTopology(lab.state).targets[0]!;
      const probes = t.published ? ['icmp', `tcp:${t.port}`, `tcp:${t.published.port}@${t.published.address}`] : [];
      const { report } = await diagnoseLab(lab, t.address, { probes });
      assert.equal(
        report.status,
        'ok',
        `seed ${seed} (${JSON.stringify(variantOf(lab.state)!.drawn)}): ${JSON.stringify(report.causes)}`,
      );
      assert.deepEqual(report.causes, []);
      assert.ok(report.probes.every((p) => p.answered === p.sent));
    });
  };
}

/**
 * What the top cause must name in its summary and fix: the target's OVN logical port as the
 * northbound database names it (a Neutron port UUID, not ovn-trace's shortened one), the bridge
 * that Docker's DNAT rule excludes.
 */
function namedByTopCause(fault: string, target: string, plan: VariantPlan): string | undefined {
  if (fault === 'ovn-acl-drop' || fault === 'ovn-port-security') return variantIfname(plan, 'hv', target);
  if (fault === 'docker-dnat-removed') return `! -i ${variantIfname(plan, 'hv', 'docker0')}`;
  return undefined;
}

describe(`diagnose on lab variant ${seed}`, { concurrency: 4 }, () => {
  for (const fault of FAULTS.filter((f) => topologies.includes(f.topology))) {
    test(
      `variant ${seed}: ${fault.name}${fault.family === 6 ? ' (over IPv6)' : ''}: the right loss segment and top cause`,
      faultTest(fault),
    );
  }
  for (const topology of topologies)
    test(`variant ${seed}: healthy ${topology}: ok, no loss, no causes`, healthyTest(topology));
});

describe(`diagnose on lab variant ${seed}: a QEMU guest`, { concurrency: 1, skip: qemuSkip }, () => {
  // One guest at a time (TCG takes a core); the kind of guest (libvirt with or without agent, plain QEMU) is the seed's.
  test(`variant ${seed}: healthy vm: ok, no loss, no causes`, healthyTest('vm'));
  for (const fault of FAULTS.filter((f) => QEMU_FAULTS.includes(f.name))) {
    test(
      `variant ${seed}: ${fault.name}: the right loss segment and top cause for its kind of guest`,
      faultTest(fault),
    );
  }
});
