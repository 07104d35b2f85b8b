import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hopdump, withLab } from '../helpers/lab.js';

test('diagnose without --out: the run goes to the store (0700/0600, marked), `hopdump runs` lists it', async () => {
  await withLab({ topology: 'bridged', prefix: 'rs' }, async (lab) => {
    const root = join(mkdtempSync(join(tmpdir(), 'hd-runs-store-')), 'runs');
    try {
      const r = await hopdump([
        'diagnose',
        '--netns',
        lab.state.hypervisor,
        '--target',
        '192.0.2.11',
        '--from',
        `netns:${lab.ns('client')}`,
        '--runs',
        root,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const list = await hopdump(['runs', '--runs', root, '--json']);
      const runs = JSON.parse(list.stdout) as Array<{
        id: string;
        dir: string;
        by: string;
        state: string;
        status: string;
        target: string;
        files: string[];
      }>;
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.deepEqual(
        { by: run.by, state: run.state, status: run.status, target: run.target, files: run.files },
        {
          by: 'cli',
          state: 'done',
          status: 'ok',
          target: '192.0.2.11',
          files: ['capture.pcapng', 'report.html', 'report.json', 'report.txt'],
        },
      );
      assert.equal(statSync(run.dir).mode & 0o777, 0o700);
      for (const f of run.files) assert.equal(statSync(join(run.dir, f)).mode & 0o777, 0o600);
      // The report says where its capture is: in the run's directory.
      assert.match(r.stdout, new RegExp(`capture: ${run.dir}/capture\\.pcapng`));
      const both = await hopdump(['diagnose', '--target', '192.0.2.11', '--out', '-', '--runs', root]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--out names the run's own directory: it does not go with --runs/);
    } finally {
      rmSync(join(root, '..'), { recursive: true, force: true });
    }
  });
});
