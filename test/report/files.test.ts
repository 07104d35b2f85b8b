import assert from 'node:assert/strict';
import {
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRunDir, openNew, requireAbsent, writeNew } from '../../src/report/files.js';

const base = mkdtempSync(join(tmpdir(), 'hopdump-files-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('two runs in the same second get two new directories, 0700', () => {
  const cwd = process.cwd();
  const here = mkdtempSync(join(base, 'runs-'));
  process.chdir(here);
  try {
    const now = new Date(2026, 11, 7, 5, 6, 7);
    const a = createRunDir(undefined, now);
    const b = createRunDir(undefined, now);
    assert.equal(a, 'hopdump-20261207-050607');
    assert.equal(b, 'hopdump-20261207-050607-2');
    assert.equal(statSync(join(here, b)).mode & 0o777, 0o700);
  } finally {
    process.chdir(cwd);
  }
});

test('a link planted where a report will be written is refused and its target left alone', () => {
  const dir = mkdtempSync(join(base, 'out-'));
  const victim = join(base, 'victim');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(dir, 'report.json'));
  assert.throws(() => requireAbsent(dir, ['report.json']), /report\.json: it is a symbolic link \(refused\)/);
  assert.throws(() => writeNew(join(dir, 'report.json'), 'x'), /report\.json: it is a symbolic link \(refused\)/);
  // A dangling link too (O_CREAT would create its target).
  symlinkSync(join(base, 'not-yet'), join(dir, 'capture.pcapng'));
  assert.throws(() => openNew(join(dir, 'capture.pcapng')), /symbolic link/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.throws(() => statSync(join(base, 'not-yet')), /ENOENT/);
});

test('an existing file is not overwritten; a new one is 0600', () => {
  const dir = mkdtempSync(join(base, 'out-'));
  writeFileSync(join(dir, 'report.txt'), 'old\n');
  assert.throws(() => requireAbsent(dir, ['report.txt']), /report\.txt: it already exists \(not overwritten\)/);
  assert.throws(() => writeNew(join(dir, 'report.txt'), 'new'), /it already exists/);
  assert.equal(readFileSync(join(dir, 'report.txt'), 'utf8'), 'old\n');
  writeNew(join(dir, 'report.json'), '{}\n');
  assert.equal(statSync(join(dir, 'report.json')).mode & 0o777, 0o600);
});

test('--out: an existing directory is used, a link is refused, missing parents are made, a parent link not owned by root is refused', () => {
  const dir = mkdtempSync(join(base, 'out-'));
  assert.equal(createRunDir(dir), dir);
  symlinkSync(dir, join(base, 'link-out'));
  assert.throws(() => createRunDir(join(base, 'link-out')), /it is a symbolic link \(refused\)/);
  const deep = join(base, 'a', 'b', 'c');
  assert.equal(createRunDir(deep), deep);
  assert.equal(statSync(deep).mode & 0o777, 0o700);
  mkdirSync(join(base, 'elsewhere'));
  symlinkSync(join(base, 'elsewhere'), join(base, 'user-link'));
  // As root the link is made someone else's; as a user it is ours already (not root's).
  if (process.getuid?.() === 0) lchownSync(join(base, 'user-link'), 65534, 65534);
  assert.throws(() => createRunDir(join(base, 'user-link', 'run')), /symbolic link owned by uid \d+ \(refused\)/);
});
