import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOPDUMP, host, withLab } from '../helpers/lab.js';

/**
 * watch bound to a non-loopback address (in a namespace of the test's own) needs its token for
 * /metrics and /runs alike; SIGHUP reloads the config: a bad one is logged and the old one kept,
 * a good one drops every series of the target that left it.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('watch: the token off loopback, and SIGHUP reloads the config (a removed target’s series disappear)', async () => {
  await withLab({ topology: 'bridged', prefix: 'wr' }, async (lab) => {
    const mon = lab.ns('mon');
    const dir = mkdtempSync(join(tmpdir(), 'hd-watch-reload-'));
    const token = 'a-token-of-32-characters-0123456';
    const config = (targets: string[]) =>
      `interval: 1s\ndiagnose: {enabled: false}\ntargets:\n${targets
        .map((t) => `  - {target: ${t}, netns: ${lab.state.hypervisor}, from: "netns:${lab.ns('client')}"}\n`)
        .join('')}`;
    writeFileSync(join(dir, 'watch.yaml'), config(['192.0.2.11', '192.0.2.12']));
    writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
    let log = '';
    await host.run(['ip', 'netns', 'add', mon]);
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        mon,
        HOPDUMP,
        'watch',
        '--config',
        join(dir, 'watch.yaml'),
        '--listen',
        '0.0.0.0:17291',
        '--token-file',
        join(dir, 'token'),
        '--runs',
        join(dir, 'runs'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const get = async (path: string, headers: string[] = []) => {
      const r = await host.run(
        [
          'curl',
          '-s',
          '--max-time',
          '3',
          '-o',
          '-',
          '-w',
          '\n%{http_code}',
          ...headers,
          `http://127.0.0.1:17291${path}`,
        ],
        { netns: mon, okCodes: 'any' },
      );
      const at = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
    };
    const metrics = () => get('/metrics', ['-H', `Authorization: Bearer ${token}`]);
    const until = async (what: string, fn: () => Promise<boolean>, ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (await fn()) return;
        await sleep(300);
      }
      assert.fail(`timed out waiting for ${what}\n${log}`);
    };
    try {
      await host.run(['ip', 'link', 'set', 'lo', 'up'], { netns: mon });
      await until(
        'both targets up',
        async () => /hopdump_target_up\{target="192\.0\.2\.12"\} 1/.test((await metrics()).body),
        60_000,
      );
      // The token: required for /metrics and /runs; a header or ?token=, nothing else.
      assert.equal((await get('/metrics')).status, 401);
      assert.equal((await get('/runs')).status, 401);
      assert.equal(
        (await get('/metrics', ['-H', 'Authorization: Bearer wrong-token-of-32-characters-xx'])).status,
        401,
      );
      assert.equal((await get(`/runs?token=${token}`)).status, 200);
      assert.equal((await metrics()).status, 200);

      // A bad config: logged with its line, the old one kept.
      writeFileSync(join(dir, 'watch.yaml'), 'interval: 1s\ntargets:\n  - target: 192.0.2.11\n    probe: [ping]\n');
      child.kill('SIGHUP');
      await until('the bad config logged', () => Promise.resolve(/config not reloaded: .*line 4/.test(log)), 10_000);
      assert.match((await metrics()).body, /target="192\.0\.2\.12"/);

      // 192.0.2.12 leaves the config: every one of its series goes.
      writeFileSync(join(dir, 'watch.yaml'), config(['192.0.2.11']));
      child.kill('SIGHUP');
      await until(
        'the reload logged',
        () => Promise.resolve(/config reloaded: 1 targets .*removed 192\.0\.2\.12/.test(log)),
        30_000,
      );
      const body = (await metrics()).body;
      assert.doesNotMatch(body, /target="192\.0\.2\.12"/);
      assert.match(body, /hopdump_target_up\{target="192\.0\.2\.11"\}/);
      assert.equal(child.exitCode, null, 'SIGHUP does not end watch');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
      await host.run(['ip', 'netns', 'del', mon], { okCodes: 'any' });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
