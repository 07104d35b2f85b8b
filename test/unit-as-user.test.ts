import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * `make unit` needs no root (issue 17): run as root, this copies the tree (without .git, dist
 * and node_modules, which is linked, read-only to the user) to a directory that nobody owns, and
 * runs `make unit` there as nobody, through setpriv: the type-check and every root-free test
 * must pass. As a user it has nothing to prove (make unit is what runs it then).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOBODY = 65534;

test(
  'make unit passes as an unprivileged user (nobody), on a copy of the tree it owns',
  { timeout: 300_000 },
  async (t) => {
    if (process.getuid?.() !== 0) return t.skip('not root: nothing to drop');
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-unit-'));
    try {
      const tree = join(dir, 'hopdump');
      cpSync(ROOT, tree, {
        recursive: true,
        verbatimSymlinks: true,
        preserveTimestamps: true,
        filter: (src) =>
          !['.git', 'dist', 'node_modules', '.eslintcache'].includes(src.slice(ROOT.length).split('/')[0] ?? ''),
      });
      symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(tree, 'node_modules'));
      execFileSync('chown', ['-R', '--no-dereference', `${NOBODY}:${NOBODY}`, dir]);
      const t0 = Date.now();
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          'setpriv',
          [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', 'make', '-C', tree, 'unit'],
          {
            // HOME and npm's cache in the copy: nobody's home does not exist.
            env: {
              PATH: process.env['PATH'] ?? '/usr/bin:/bin',
              HOME: dir,
              npm_config_cache: join(dir, '.npm'),
              LANG: 'C.UTF-8',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (c) => resolve({ code: c, out }));
      });
      const secs = (Date.now() - t0) / 1000;
      t.diagnostic(`make unit as nobody: ${secs.toFixed(1)} s`);
      const summary = out.match(/^(\d+) passed, (\d+) failed, (\d+) skipped$/m);
      assert.equal(code, 0, out.slice(-4000));
      assert.ok(summary, `no summary line:\n${out.slice(-2000)}`);
      assert.ok(Number(summary[1]) > 0 && summary[2] === '0', summary[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
