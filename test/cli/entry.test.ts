import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

test('bin/hopdump loads dist/bundle while it is newer than the last tsc build, dist/src otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-entry-'));
  try {
    // A checkout in miniature: the real entry point, stub CLIs that say which one ran.
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(repo, 'bin', 'hopdump'), join(dir, 'bin', 'hopdump'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const stub = (where: string) => {
      const file = join(dir, 'dist', where, where === 'src' ? 'cli' : '', 'main.js');
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, `export async function main(a) { process.stdout.write('${where} ' + a.join(' ')); }\n`);
    };
    const run = () => spawnSync(process.execPath, [join(dir, 'bin', 'hopdump'), 'read', 'x'], { encoding: 'utf8' });
    const at = (file: string, seconds: number) => utimesSync(join(dir, 'dist', file), seconds, seconds);

    assert.match(run().stderr, /not built yet: run `make build`/);
    assert.equal(run().status, 3);
    stub('src');
    assert.equal(run().stdout, 'src read x', 'no bundle');
    stub('bundle');
    writeFileSync(join(dir, 'dist', '.tsbuildinfo'), '{}');
    at('.tsbuildinfo', 1_000_000);
    at('bundle/main.js', 1_000_100);
    assert.equal(run().stdout, 'bundle read x', 'bundle made after the build');
    at('.tsbuildinfo', 1_000_200);
    assert.equal(run().stdout, 'src read x', 'tsc ran since: the bundle is stale');
    rmSync(join(dir, 'dist', '.tsbuildinfo'));
    assert.equal(run().stdout, 'bundle read x', 'an npm package (no build record)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
