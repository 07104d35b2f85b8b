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
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk(testDir, []).sort();
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
  { stdio: 'inherit' },
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
