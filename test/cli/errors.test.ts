import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HOPDUMP, hopdump, instanceName, leftoverNamespaces, runProgram, withLab } from '../helpers/lab.js';

/** One line on stderr, no stack trace. */
function assertOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

describe('errors and exit codes', { concurrency: true }, () => {
  test('no command prints help and exits 2; --help and --version exit 0', async () => {
    assert.equal((await hopdump([])).code, 2);
    const help = await hopdump(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /discover/);
    assert.match((await hopdump(['--version'])).stdout, /^hopdump \d+\.\d+\.\d+/);
    assert.match((await hopdump(['path', '--help'])).stdout, /--target T/);
  });

  test('unknown command and unknown flag: one line, exit 2', async () => {
    const a = await hopdump(['frobnicate']);
    assert.equal(a.code, 2);
    assertOneLine(a.stderr);
    assert.match(a.stderr, /unknown command 'frobnicate'/);
    const b = await hopdump(['discover', '--bogus']);
    assert.equal(b.code, 2);
    assertOneLine(b.stderr);
    assert.match(b.stderr, /unknown option '--bogus'/);
  });

  test('missing namespace: one line naming it, exit 3', async () => {
    const r = await hopdump(['discover', '--netns', 'hd-nonexistent-hv']);
    assert.equal(r.code, 3);
    assertOneLine(r.stderr);
    assert.match(r.stderr, /network namespace 'hd-nonexistent-hv' not found/);
  });

  test('not root: one line saying so, exit 3', async () => {
    const out = await runProgram('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      HOPDUMP,
      'discover',
    ]);
    assert.equal(out.code, 3);
    assertOneLine(out.stderr);
    assert.match(out.stderr, /needs root/);
  });

  test('a required program missing: names the Debian package, exit 3', async () => {
    // A PATH with node but without iproute2.
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-path-'));
    try {
      symlinkSync(process.execPath, join(dir, 'node'));
      const r = await hopdump(['discover'], { ...process.env, PATH: dir });
      assert.equal(r.code, 3);
      assertOneLine(r.stderr);
      assert.match(r.stderr, /ip not found: apt-get install iproute2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('diagnose without tcpdump: names the package, exit 3, before touching anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-path-'));
    try {
      for (const base of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
        for (const name of readdirSync(base)) {
          if (name === 'tcpdump') continue;
          try {
            symlinkSync(join(base, name), join(dir, name));
          } catch {
            /* already linked from an earlier directory */
          }
        }
      }
      const r = await hopdump(['diagnose', '--target', '192.0.2.11', '--out', '-'], { ...process.env, PATH: dir });
      assert.equal(r.code, 3);
      assertOneLine(r.stderr);
      assert.match(r.stderr, /tcpdump not found: apt-get install tcpdump/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('path: a target that is not there is a usage error naming it, exit 2', async () => {
    await withLab({ topology: 'bridged', prefix: 'er' }, async (lab) => {
      // An address is "not found" only outside every prefix held here: 192.0.2.99 would be a silent
      // guest behind br0 (docs/targets.md); 203.0.113.0/24 is held by no interface of this lab.
      for (const target of ['203.0.113.99', '02:00:00:00:99:99', 'nosuchif0', 'netns:hd-nope-x']) {
        const r = await hopdump(['path', '--netns', lab.state.hypervisor, '--target', target]);
        assert.equal(r.code, 2, `${target}: ${r.stderr}`);
        assertOneLine(r.stderr);
        assert.match(r.stderr, new RegExp(`target ${target} not found`));
      }
      const bad = await hopdump(['path', '--netns', lab.state.hypervisor, '--target', 'not a target!']);
      assert.equal(bad.code, 2);
      assert.equal((await hopdump(['path', '--netns', lab.state.hypervisor])).code, 2, '--target is required');
    });
  });

  test('lab: unknown topology or fault is a usage error; a lab that is up cannot come up twice', async () => {
    assert.equal((await hopdump(['lab', 'up', 'mesh'])).code, 2);
    const wrong = await hopdump(['lab', 'up', 'routed', '--fault', 'stp-blocking', '--name', 'never']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /belongs to the bridged topology/);
    assert.equal((await hopdump(['lab', 'up', 'bridged', '--name', 'Bad_Name'])).code, 2);
    await withLab({ topology: 'bridged', prefix: 'tw' }, async (lab) => {
      const again = await hopdump(['lab', 'up', 'bridged', '--name', lab.state.instance]);
      assert.equal(again.code, 3);
      assert.match(again.stderr, /already up/);
      assert.equal(leftoverNamespaces(lab.state.instance).length, 4, 'the running lab is untouched');
    });
  });

  test('lab up that fails half-way removes what it built', async () => {
    // Without nc on PATH the guests' services cannot start, after the namespaces exist.
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-path-'));
    const instance = instanceName('hf');
    try {
      for (const p of ['ip', 'sysctl', 'iptables-restore', 'setpriv']) {
        for (const base of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
          try {
            symlinkSync(join(base, p), join(dir, p));
            break;
          } catch {
            /* not there */
          }
        }
      }
      symlinkSync(process.execPath, join(dir, 'node'));
      const r = await hopdump(['lab', 'up', 'bridged', '--name', instance], { ...process.env, PATH: dir });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /nc not found: apt-get install netcat-openbsd/);
      assert.deepEqual(leftoverNamespaces(instance), []);
    } finally {
      await hopdump(['lab', 'down', '--name', instance]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
