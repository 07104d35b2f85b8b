#!/usr/bin/env node
// Runs the compiled test files with node's own test runner. Lab tests use
// separate namespaces (hd-<instance>-*), so files run concurrently; node's
// default on a 2-core machine would be one file at a time.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
// --unit: only the root-free files below (`make unit`); the other arguments filter as before.
const unit = process.argv.includes('--unit');
const filter = process.argv.slice(2).filter((a) => a !== '--unit');

/**
 * The root-free test files (`make unit`): no root, no namespaces, no lab, no programs beyond
 * Node (and the shell). Each was checked to pass as an unprivileged user; test/unit-as-user.test.ts
 * (root) runs them as nobody. Every other file needs root (a lab, ip, tcpdump, tshark).
 */
const UNIT = [
  'bench/pcap.test.js',
  'cli/entry.test.js',
  'cli/man.test.js',
  'capture/spool.test.js',
  'checks/fixtures.test.js',
  'checks/guest-arp-unresolved.test.js',
  'checks/macvlan-isolation.test.js',
  'checks/rank.test.js',
  'checks/service-not-listening.test.js',
  'checks/unknown.test.js',
  'checks/util-family.test.js',
  'collect/daemons.test.js',
  'collect/guests.test.js',
  'collect/libvirt.test.js',
  'collect/ovs-parsers.test.js',
  'collect/parsers.test.js',
  'collect/podman.test.js',
  'collect/untrusted.test.js',
  'correlate/correlate.test.js',
  'correlate/packets.test.js',
  'lab-names.test.js',
  'lab/variant.test.js',
  'layout.test.js',
  'model/ip.test.js',
  'path/chain-macvlan.test.js',
  'path/dnat.test.js',
  'path/fixtures.test.js',
  'path/silent.test.js',
  'pcap/decode.test.js',
  'pcap/match.test.js',
  'pcap/parallel.test.js',
  'pcap/prefetch.test.js',
  'pcap/fingerprint-fast.test.js',
  'analyze/threads.test.js',
  'pcap/reader.test.js',
  'pcap/tcp-relative.test.js',
  'report/files.test.js',
  'report/runs.test.js',
  'watch/config.test.js',
  'watch/contrib.test.js',
  'watch/discovered.test.js',
  'serve/graph.test.js',
  'util/shell.test.js',
  'util/tagged-json.test.js',
  'verdict/settle.test.js',
];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk(testDir, []).sort();
if (unit) {
  const missing = UNIT.filter((u) => !files.includes(join(testDir, u)));
  if (missing.length) {
    console.error(`unit test files not built: ${missing.join(', ')} (run: make build)`);
    process.exit(1);
  }
  files = UNIT.map((u) => join(testDir, u));
}
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files found under dist/test (run: make build)');
  process.exit(1);
}
const concurrency = process.env.HOPDUMP_TEST_CONCURRENCY ?? '4';
// A second reporter writes TAP to a file so that the run can end with one
// plain summary line whatever the spec reporter printed above it.
const tapDir = mkdtempSync(join(tmpdir(), 'hopdump-tests-'));
const tapFile = join(tapDir, 'result.tap');
const child = spawn(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  // Diagnose runs without --out go to the runs store: the tests' own, never /var/lib/hopdump.
  { stdio: 'inherit', env: { ...process.env, HOPDUMP_RUNS: process.env.HOPDUMP_RUNS ?? join(tapDir, 'runs') } },
);
child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const tap = readFileSync(tapFile, 'utf8');
    // The runner's own totals are the last "# pass N" / "# fail N" lines.
    for (const m of tap.matchAll(/^# (pass|fail|skipped) (\d+)$/gm)) {
      if (m[1] === 'pass') passed = Number(m[2]);
      else if (m[1] === 'fail') failed = Number(m[2]);
      else skipped = Number(m[2]);
    }
  } catch {
    failed = Math.max(failed, 1);
  }
  rmSync(tapDir, { recursive: true, force: true });
  const exit = code ?? (signal ? 1 : 0);
  if (exit !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(exit);
});
