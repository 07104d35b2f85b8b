// `make fixtures` (root): every lab topology with every fault, and healthy, plus a few variants,
// brought up and diagnosed as test/diagnose/expectations.ts says, each run written as a diagnose
// fixture (src/checks/fixture.ts) to test/fixtures/diagnose/lab-<topology>-<fault|healthy>[-vSEED].json.
// test/checks/fixtures.test.ts replays them without root.
//
//   node dist/scripts/record-fixtures.js [--name=PREFIX] [--jobs=N] [--only=TOPOLOGY,...|FILE-STEM,...]
//                                        [--skip=TOPOLOGY,...] [--seeds=S,...] [--out=DIR] [--attempts=N]
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFixture, type DiagnoseFixture } from '../src/checks/fixture.js';
import { readHopPackets } from '../src/correlate/packets.js';
import { diagnose } from '../src/diagnose/diagnose.js';
import { localHost } from '../src/host/local.js';
import { FAULTS, labDown, labTopology, labUp, TOPOLOGIES, variantOf } from '../src/lab/lab.js';
import { VARIANT_TOPOLOGIES } from '../src/lab/variant.js';
import type { Report } from '../src/model/report.js';
import { version } from '../src/version.js';
import { canonicalHop, EXPECT, faultAddress, variantProbe, type Expectation } from '../test/diagnose/expectations.js';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = arg('out') ?? join(ROOT, 'test', 'fixtures', 'diagnose');
/** Lab instance names PREFIX1..PREFIXn (one per job). */
const PREFIX = arg('name') ?? 'fx';
/** Labs up at once: the machine has two cores. */
const JOBS = Number(arg('jobs') ?? 2);
const ATTEMPTS = Number(arg('attempts') ?? 3);
/** --skip=TOPOLOGY,...: labs left out (the QEMU ones, vm and vm-macvtap, take about 30 s a run). */
const SKIPPED_TOPOLOGIES = arg('skip')?.split(',') ?? [];
/** Variant seeds: every variant topology healthy on each, every fault on the first. */
const SEEDS = (arg('seeds') ?? '1,2').split(',').filter(Boolean).map(Number);
const ONLY = arg('only')?.split(',');

interface Case {
  /** The file's stem: lab-<topology>-<fault|healthy>[-vSEED]. */
  stem: string;
  topology: string;
  fault?: string;
  seed?: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (topology: string, fault: string | undefined, seed?: number) =>
    out.push({
      stem: `lab-${topology}-${fault ?? 'healthy'}${seed !== undefined ? `-v${seed}` : ''}`,
      topology,
      ...(fault ? { fault } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
  for (const t of TOPOLOGIES.filter((t) => !SKIPPED_TOPOLOGIES.includes(t.name))) {
    add(t.name, undefined);
    for (const f of FAULTS.filter((f) => f.topology === t.name)) add(t.name, f.name);
  }
  for (const [i, seed] of SEEDS.entries()) {
    for (const topology of VARIANT_TOPOLOGIES) {
      add(topology, undefined, seed);
      if (i === 0) for (const f of FAULTS.filter((f) => f.topology === topology)) add(topology, f.name, seed);
    }
  }
  return ONLY ? out.filter((c) => ONLY.includes(c.topology) || ONLY.includes(c.stem)) : out;
}

const host = localHost();

interface Outcome {
  fixture: DiagnoseFixture;
  report: Report;
  /** What differs from EXPECT (or, healthy, from ok with no causes); empty when it matches. */
  mismatch: string[];
}

/** One lab up, diagnosed as the lab tests do, and down again. */
async function record(c: Case, instance: string): Promise<Outcome> {
  await labDown({ host, instance });
  const state = await labUp({
    host,
    topology: c.topology,
    instance,
    ...(c.fault ? { fault: c.fault } : {}),
    ...(c.seed !== undefined ? { variant: c.seed } : {}),
  });
  try {
    const plan = variantOf(state);
    const fault = FAULTS.find((f) => f.name === c.fault);
    const want: Expectation | undefined = c.fault ? EXPECT[c.fault] : undefined;
    if (c.fault && !want) throw new Error(`no expectation for fault ${c.fault} (test/diagnose/expectations.ts)`);
    const target = labTopology(state).targets.find((t) => !fault || t.name === fault.target)!;
    const address = fault ? faultAddress(fault, target) : target.address;
    const probes = want
      ? (want.probes ?? []).map((p) => variantProbe(p, plan))
      : target.published
        ? ['icmp', `tcp:${target.port}`, `tcp:${target.published.port}@${target.published.address}`]
        : [];
    let fixture: DiagnoseFixture | undefined;
    const { report } = await diagnose({
      host,
      reader: readHopPackets,
      netns: state.hypervisor,
      target: address,
      probes,
      from: `netns:${want?.from ? state.namespaces.find((n) => n.endsWith(`-${want.from}`)) : state.client}`,
      count: 3,
      passive: false,
      ...(want?.size ? { size: want.size } : {}),
      record: (f) => (fixture = f),
    });
    if (!fixture) throw new Error('diagnose recorded nothing');
    const mismatch: string[] = [];
    if (want) {
      const loss = report.loss
        ? {
            direction: report.loss.direction,
            last: canonicalHop(report.loss.lastSeenHop, c.topology, plan, {
              end: 'last',
              direction: report.loss.direction,
            }),
            missing: canonicalHop(report.loss.firstMissingHop, c.topology, plan, {
              end: 'missing',
              direction: report.loss.direction,
            }),
          }
        : null;
      if (JSON.stringify(loss) !== JSON.stringify(want.loss))
        mismatch.push(`loss ${JSON.stringify(loss)}, expected ${JSON.stringify(want.loss)}`);
      if (report.causes[0]?.id !== want.top)
        mismatch.push(`top cause ${report.causes[0]?.id ?? 'none'}, expected ${want.top}`);
      if (![want.status].flat().includes(report.status))
        mismatch.push(`status ${report.status}, expected ${[want.status].flat().join('|')}`);
    } else if (report.status !== 'ok' || report.causes.length > 0) {
      mismatch.push(
        `status ${report.status} causes ${report.causes.map((x) => x.id).join(',') || 'none'}, expected ok with none`,
      );
    }
    return { fixture, report, mismatch };
  } finally {
    await labDown({ host, instance });
  }
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('make fixtures builds lab namespaces: run it as root');
    process.exit(3);
  }
  mkdirSync(OUT, { recursive: true });
  const todo = cases();
  const head = commit();
  console.log(
    `recording ${todo.length} diagnose fixtures into ${OUT}, ${JOBS} labs at a time${SKIPPED_TOPOLOGIES.length ? ` (skipped: ${SKIPPED_TOPOLOGIES.join(', ')})` : ''}`,
  );
  const failed: string[] = [];
  const mismatched: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async (job: number) => {
    const instance = `${PREFIX}${job + 1}`;
    for (let i = next++; i < todo.length; i = next++) {
      const c = todo[i]!;
      const t0 = Date.now();
      let outcome: Outcome | undefined;
      let error: unknown;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          outcome = await record(c, instance);
          error = undefined;
          if (outcome.mismatch.length === 0) break;
        } catch (err) {
          error = err;
        }
      }
      done++;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (!outcome) {
        failed.push(`${c.stem}: ${error instanceof Error ? error.message : String(error)}`);
        console.log(
          `[${done}/${todo.length}] ${c.stem}: FAILED (${secs} s): ${error instanceof Error ? error.message : String(error)}`,
        );
        continue;
      }
      const { fixture, report, mismatch } = outcome;
      fixture.source = {
        recordedFrom: 'lab',
        topology: c.topology,
        fault: c.fault ?? 'healthy',
        ...(c.seed !== undefined ? { variant: c.seed } : {}),
        expected: mismatch.length === 0,
        hopdump: version(),
        ...(head ? { commit: head } : {}),
        recordedAt: new Date().toISOString(),
      };
      const file = join(OUT, `${c.stem}.json`);
      writeFileSync(`${file}.tmp`, encodeFixture(fixture));
      renameSync(`${file}.tmp`, file);
      if (mismatch.length) mismatched.push(`${c.stem}: ${mismatch.join('; ')}`);
      console.log(
        `[${done}/${todo.length}] ${c.stem}: ${report.status} ${report.causes[0]?.id ?? 'no cause'}${mismatch.length ? ` (NOT AS EXPECTED: ${mismatch.join('; ')})` : ''} (${secs} s)`,
      );
    }
  };
  await Promise.all(Array.from({ length: JOBS }, (_, j) => worker(j)));
  for (const m of mismatched)
    console.log(`not as expected after ${ATTEMPTS} attempts (written, source.expected false): ${m}`);
  for (const f of failed) console.log(`failed: ${f}`);
  console.log(
    `${todo.length - failed.length - mismatched.length} recorded as expected, ${mismatched.length} not as expected, ${failed.length} failed`,
  );
  process.exitCode = failed.length || mismatched.length ? 1 : 0;
}

await main();
