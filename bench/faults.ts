// `make bench-faults`: diagnose every lab fault several times, and the healthy
// labs: is the loss localized right, is the right cause first, how long to the
// verdict. Ends with "N passed, N failed".
import { readHopPackets } from '../src/correlate/packets.js';
import { diagnose } from '../src/diagnose/diagnose.js';
import { localHost } from '../src/host/local.js';
import { FAULTS, findTopology, labDown, labTopology, labUp, variantOf } from '../src/lab/lab.js';
import { QEMU_VARIANT_TOPOLOGIES, VARIANT_TOPOLOGIES } from '../src/lab/variant.js';
import type { Report } from '../src/model/report.js';
import {
  canonicalHop,
  EXPECT,
  expectationFor,
  faultAddress,
  shortHop,
  variantProbe,
} from '../test/diagnose/expectations.js';

const host = localHost();
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
/** --topology=NAME[,NAME]: only those labs' cases. */
const only = process.argv
  .find((a) => a.startsWith('--topology='))
  ?.slice(11)
  .split(',');
/** --variants=N: every fault of the variant topologies on seeds 1..N instead (docs/lab.md, "Variants"). */
const variants = Number(process.argv.find((a) => a.startsWith('--variants='))?.slice(11) ?? 0);
/** With --variants: --seeds=S[,S] runs those seeds instead of 1..N; --fault=NAME[,NAME] only those faults (`healthy`: the healthy lab). */
const onlySeeds = process.argv
  .find((a) => a.startsWith('--seeds='))
  ?.slice(8)
  .split(',')
  .map(Number);
const onlyFaults = process.argv
  .find((a) => a.startsWith('--fault='))
  ?.slice(8)
  .split(',');
/** --name=PREFIX: the labs' instance names (PREFIX0, PREFIX1, ...), so that the bench can run beside other labs. */
const prefix = process.argv.find((a) => a.startsWith('--name='))?.slice(7);
/** --verbose: with --variants, one line per case as it ends (the variant, the loss, the causes, the hops). */
const verbose = process.argv.includes('--verbose');
/**
 * --qemu-variants=K: the QEMU topologies (vm, vm-macvtap: a TCG guest per lab, a minute a case) on
 * the first K of the seeds only (default 6: two of each kind of guest on average).
 */
const qemuVariants = Number(process.argv.find((a) => a.startsWith('--qemu-variants='))?.slice(16) ?? 6);

interface Row {
  name: string;
  localized: number;
  topCause: number;
  runs: number;
  medianMs: number;
  got: string;
}

async function one(topology: string, fault: string | undefined, i: number): Promise<{ report: Report; ms: number }> {
  const instance = `${prefix ?? 'bf'}${i}`;
  await labDown({ host, instance });
  const state = await labUp({ host, topology, instance, ...(fault ? { fault } : {}) });
  try {
    const want = fault ? EXPECT[fault] : undefined;
    const target = findTopology(topology).targets[0]!;
    const labFault = FAULTS.find((f) => f.name === fault);
    const t0 = Date.now();
    const { report } = await diagnose({
      host,
      reader: readHopPackets,
      netns: state.hypervisor,
      // Each fault in the family it breaks (family 6: IPv6 only).
      target: labFault ? faultAddress(labFault, target) : target.address,
      probes: want?.probes ?? [],
      from: `netns:${state.client}`,
      count: 3,
      passive: false,
      ...(want?.size ? { size: want.size } : {}),
    });
    return { report, ms: Date.now() - t0 };
  } finally {
    await labDown({ host, instance });
  }
}

if (variants > 0) {
  await variantBench(variants);
} else {
  await fixedBench();
}

async function fixedBench(): Promise<void> {
  const rows: Row[] = [];
  const cases: Array<{ name: string; topology: string; fault?: string }> = [
    { name: 'healthy bridged', topology: 'bridged' },
    { name: 'healthy routed', topology: 'routed' },
    { name: 'healthy ovs', topology: 'ovs' },
    { name: 'healthy neutron', topology: 'neutron' },
    { name: 'healthy ovn', topology: 'ovn' },
    { name: 'healthy docker', topology: 'docker' },
    ...FAULTS.map((f) => ({ name: f.name, topology: f.topology, fault: f.name })),
  ].filter((c) => !only || only.includes(c.topology));
  let idx = 0;
  for (const c of cases) {
    let localized = 0;
    let topCause = 0;
    const times: number[] = [];
    let got = '';
    // Two labs at a time: the machine has two cores.
    for (let r = 0; r < runs; r += 2) {
      const batch = await Promise.all([r, r + 1].filter((x) => x < runs).map(() => one(c.topology, c.fault, idx++)));
      for (const { report, ms } of batch) {
        times.push(ms);
        const want = c.fault ? EXPECT[c.fault] : undefined;
        const loss = report.loss
          ? {
              direction: report.loss.direction,
              last: shortHop(report.loss.lastSeenHop, c.topology),
              missing: shortHop(report.loss.firstMissingHop, c.topology),
            }
          : null;
        if (JSON.stringify(loss) === JSON.stringify(want?.loss ?? null)) localized++;
        if (want ? report.causes[0]?.id === want.top : report.causes.length === 0 && report.status === 'ok') topCause++;
        got = `${report.status} ${report.causes[0]?.id ?? 'no cause'}`;
      }
    }
    times.sort((a, b) => a - b);
    rows.push({ name: c.name, localized, topCause, runs, medianMs: times[Math.floor(times.length / 2)]!, got });
  }

  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(w)}  localized  top cause  median time to verdict  last verdict`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${`${r.localized}/${r.runs}`.padStart(9)}  ${`${r.topCause}/${r.runs}`.padStart(9)}  ${`${(r.medianMs / 1000).toFixed(1)} s`.padStart(22)}  ${r.got}`,
    );
  }
  const passed = rows.filter((r) => r.localized === r.runs && r.topCause === r.runs).length;
  console.log(`${passed} passed, ${rows.length - passed} failed`);
  process.exitCode = passed === rows.length ? 0 : 1;
}

/** One fault (or the healthy lab) on one variant: localized? right cause first (or, healthy, none)? */
async function oneVariant(
  topology: string,
  fault: string | undefined,
  seed: number,
  i: number,
): Promise<{ localized: boolean; top: boolean; got: string; kind: string }> {
  const instance = `${prefix ?? 'bv'}${i}`;
  await labDown({ host, instance });
  const state = await labUp({ host, topology, instance, variant: seed, ...(fault ? { fault } : {}) });
  try {
    const plan = variantOf(state)!;
    // A QEMU guest without an agent: what hopdump can prove from outside (expectations.ts, noAgent).
    const want = fault ? expectationFor(fault, plan) : undefined;
    const labFault = FAULTS.find((f) => f.name === fault);
    const target = labTopology(state).targets.find((t) => !labFault || t.name === labFault.target)!;
    const probes = want
      ? (want.probes ?? []).map((p) => variantProbe(p, plan))
      : target.published
        ? ['icmp', `tcp:${target.port}`, `tcp:${target.published.port}@${target.published.address}`]
        : [];
    const { report } = await diagnose({
      host,
      reader: readHopPackets,
      netns: state.hypervisor,
      target: labFault ? faultAddress(labFault, target) : target.address,
      probes,
      from: want?.from ? `netns:${state.namespaces.find((n) => n.endsWith(`-${want.from}`))}` : `netns:${state.client}`,
      count: 3,
      passive: false,
      ...(want?.size ? { size: want.size } : {}),
    });
    const loss = report.loss
      ? {
          direction: report.loss.direction,
          last: canonicalHop(report.loss.lastSeenHop, topology, plan, {
            end: 'last',
            direction: report.loss.direction,
          }),
          missing: canonicalHop(report.loss.firstMissingHop, topology, plan, {
            end: 'missing',
            direction: report.loss.direction,
          }),
        }
      : null;
    if (verbose) {
      console.log(
        `${topology} ${fault ?? 'healthy'} seed ${seed} (${JSON.stringify(plan.drawn)}): ${report.status} loss=${JSON.stringify(loss)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')} hops=${report.hops.map((h) => `${h.ifname}:${h.toTarget}/${h.fromTarget}`).join(' ')} probes=${report.probes.map((p) => `${p.kind}${p.port ? `:${p.port}` : ''}:${p.answered}/${p.sent}`).join(' ')}`,
      );
    }
    return {
      localized: JSON.stringify(loss) === JSON.stringify(want?.loss ?? null),
      top: want ? report.causes[0]?.id === want.top : report.causes.length === 0 && report.status === 'ok',
      got: `${report.status} ${report.causes[0]?.id ?? 'no cause'}${loss ? ` ${loss.direction} ${loss.last ?? '-'}..${loss.missing ?? '-'}` : ''}`,
      kind: plan.drawn.guestKind,
    };
  } finally {
    await labDown({ host, instance });
  }
}

async function variantBench(n: number): Promise<void> {
  const seeds = onlySeeds ?? Array.from({ length: n }, (_, i) => i + 1);
  const topologies = VARIANT_TOPOLOGIES.filter((t) => !only || only.includes(t));
  const lines: string[] = [];
  let failedCases = 0;
  let cases = 0;
  let idx = 0;
  for (const topology of topologies) {
    const faults = FAULTS.filter((f) => f.topology === topology);
    let localized = 0;
    let top = 0;
    let healthy = 0;
    let faultRuns = 0;
    let healthyRuns = 0;
    const failed = new Map<string, number[]>();
    // Two labs at a time: the machine has two cores; one QEMU guest at a time (TCG takes a core).
    const qemu = QEMU_VARIANT_TOPOLOGIES.includes(topology);
    const width = qemu ? 1 : 2;
    const these = qemu && !onlySeeds ? seeds.slice(0, qemuVariants) : seeds;
    for (const fault of [undefined, ...faults.map((f) => f.name)].filter(
      (f) => !onlyFaults || onlyFaults.includes(f ?? 'healthy'),
    )) {
      for (let k = 0; k < these.length; k += width) {
        const batch = these.slice(k, k + width);
        const results = await Promise.all(batch.map((seed) => oneVariant(topology, fault, seed, idx++)));
        results.forEach((r, j) => {
          cases++;
          if (width === 1)
            console.log(
              `${topology} seed ${batch[j]} (${r.kind}): ${fault ?? 'healthy'}: ${r.localized && r.top ? 'ok' : 'FAILED'} (${r.got})`,
            );
          if (fault) {
            faultRuns++;
            if (r.localized) localized++;
            if (r.top) top++;
          } else {
            healthyRuns++;
            if (r.top && r.localized) healthy++;
          }
          if (!(r.localized && r.top)) {
            failedCases++;
            const key = `${fault ?? 'healthy'} (${r.got}${width === 1 ? `, ${r.kind}` : ''})`;
            failed.set(key, [...(failed.get(key) ?? []), batch[j]!]);
          }
        });
      }
    }
    lines.push(
      `${topology}: ${faultRuns / these.length} faults x ${these.length} variants: localized ${localized}/${faultRuns}, right cause first ${top}/${faultRuns}; healthy with no cause ${healthy}/${healthyRuns}`,
    );
    for (const [what, s] of failed) lines.push(`  failed: ${what}: seeds ${s.join(' ')}`);
  }
  for (const l of lines) console.log(l);
  console.log(`${cases - failedCases} passed, ${failedCases} failed`);
  process.exitCode = failedCases === 0 ? 0 : 1;
}
