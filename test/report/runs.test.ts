import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runsCommand } from '../../src/cli/runs.js';
import type { Report } from '../../src/model/report.js';
import { DEFAULT_RUNS_ROOT, RUN_MARKER, RunsStore, runsRoot } from '../../src/report/runs.js';

const base = mkdtempSync(join(tmpdir(), 'hd-runs-test-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `root-${++n}`, 'runs');
const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, s));

const brokenReport = {
  status: 'broken',
  causes: [{ id: 'firewall-drop', device: { netns: 'hv', ifname: 'tap0' } }],
} as unknown as Report;

test('a run: a 0700 directory named by UTC time, its marker 0600, running then done with its top cause', () => {
  const store = new RunsStore({ root: fresh() });
  const run = store.create('192.0.2.11', 'cli', at(5));
  assert.match(run.id, /^20261207-100005-[0-9a-f]{4}$/);
  assert.equal(statSync(run.dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(run.dir, RUN_MARKER)).mode & 0o777, 0o600);
  assert.equal(store.get(run.id)?.state, 'running');
  writeFileSync(join(run.dir, 'report.json'), '{}', { mode: 0o600 });
  store.finish(run.id, { report: brokenReport }, at(9));
  const got = store.get(run.id)!;
  assert.deepEqual(
    { state: got.state, status: got.status, cause: got.cause, files: got.files, by: got.by, target: got.target },
    {
      state: 'done',
      status: 'broken',
      cause: { id: 'firewall-drop', hop: 'hv/tap0' },
      files: ['report.json'],
      by: 'cli',
      target: '192.0.2.11',
    },
  );
  assert.ok(got.bytes > 2);
  const failed = store.create('198.51.100.7', 'watch', at(10));
  store.finish(failed.id, { error: 'tcpdump on hv/tap0 failed' });
  assert.deepEqual(
    store.list().map((r) => [r.id, r.state]),
    [
      [failed.id, 'failed'],
      [run.id, 'done'],
    ],
  );
  assert.equal(store.get('../etc'), undefined);
  assert.equal(store.get('20261207-100005-zzzz'), undefined);
});

test('pruning: the oldest marked runs go first, to the count and byte bounds; unmarked directories and the kept run stay', () => {
  const root = fresh();
  const store = new RunsStore({ root, maxRuns: 3, maxBytes: 10_000 });
  const ids = [1, 2, 3, 4, 5].map((s) => store.create('192.0.2.11', 'watch', at(s)).id);
  // Something else in the root that looks like a run but has no marker: never the store's to remove.
  const foreign = join(root, '20200101-000000-abcd');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'capture.pcapng'), Buffer.alloc(50_000));
  const removed = store.prune(ids[4]);
  assert.deepEqual(removed, [join(root, ids[0]!), join(root, ids[1]!)]);
  assert.deepEqual(readdirSync(root).sort(), ['20200101-000000-abcd', ids[2], ids[3], ids[4]].sort());
  // Bytes: the newest run alone is over the bound, but it is the one kept.
  writeFileSync(join(root, ids[4]!, 'capture.pcapng'), Buffer.alloc(20_000));
  assert.deepEqual(store.prune(ids[4]), [join(root, ids[2]!), join(root, ids[3]!)]);
  assert.deepEqual(
    store.list().map((r) => r.id),
    [ids[4]],
  );
});

test('the root: --runs, else HOPDUMP_RUNS, else /var/lib/hopdump/runs', () => {
  assert.equal(runsRoot('/srv/runs', { HOPDUMP_RUNS: '/x' }), '/srv/runs');
  assert.equal(runsRoot(undefined, { HOPDUMP_RUNS: '/x' }), '/x');
  assert.equal(runsRoot(undefined, {}), DEFAULT_RUNS_ROOT);
});

test('hopdump runs: a table newest first, one run by ID, JSON, and a clear error for an unknown ID', async () => {
  const root = fresh();
  const store = new RunsStore({ root });
  const a = store.create('192.0.2.11', 'cli', at(1));
  store.finish(a.id, { report: brokenReport });
  const b = store.create('web-1', 'watch', at(2));
  let out = '';
  const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, isTTY: false };
  assert.equal(await runsCommand.run(['--runs', root], io), 0);
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^ID\s+BY\s+TARGET\s+OUTCOME\s+CAUSE\s+SIZE$/);
  assert.match(lines[1]!, new RegExp(`^${b.id}\\s+watch\\s+web-1\\s+running\\s+`));
  assert.match(
    lines[2]!,
    new RegExp(`^${a.id}\\s+cli\\s+192\\.0\\.2\\.11\\s+broken\\s+firewall-drop at hv/tap0\\s+\\d+ B$`),
  );
  out = '';
  await runsCommand.run(['--runs', root, '--json'], io);
  assert.deepEqual(
    (JSON.parse(out) as Array<{ id: string }>).map((r) => r.id),
    [b.id, a.id],
  );
  out = '';
  await runsCommand.run(['--runs', root, a.id], io);
  assert.match(out, new RegExp(`dir:\\s+${root}/${a.id}`));
  await assert.rejects(
    runsCommand.run(['--runs', root, '20261207-000000-0000'], io),
    /no run 20261207-000000-0000 in /,
  );
});
