import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withLab } from '../helpers/lab.js';
import { withWatch } from '../helpers/watch.js';

/**
 * watch bound to a non-loopback address (in a namespace of the test's own) needs its token for
 * /metrics and /runs alike; SIGHUP reloads the config: a bad one is logged and the old one kept,
 * a good one drops every series of the target that left it.
 */
test('watch: the token off loopback, and SIGHUP reloads the config (a removed target’s series disappear)', async () => {
  await withLab({ topology: 'bridged', prefix: 'wr' }, async (lab) => {
    const token = 'a-token-of-32-characters-0123456';
    const config = (targets: string[]) =>
      `interval: 1s\ndiagnose: {enabled: false}\ntargets:\n${targets
        .map((t) => `  - {target: ${t}, netns: ${lab.state.hypervisor}, from: "netns:${lab.ns('client')}"}\n`)
        .join('')}`;
    const tokenFile = join(tmpdir(), `hd-watch-token-${process.pid}`);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    await withWatch(
      lab.ns('mon'),
      config(['192.0.2.11', '192.0.2.12']),
      ['--listen', '0.0.0.0:17291', '--token-file', tokenFile],
      async (w) => {
        const metrics = () => w.get('/metrics', ['-H', `Authorization: Bearer ${token}`]);
        await w.until(
          'both targets up',
          async () => /hopdump_target_up\{target="192\.0\.2\.12"\} 1/.test((await metrics()).body),
          60_000,
        );
        // The token: required for /metrics and /runs; a header or ?token=, nothing else.
        assert.equal((await w.get('/metrics')).status, 401);
        assert.equal((await w.get('/runs')).status, 401);
        assert.equal(
          (await w.get('/metrics', ['-H', 'Authorization: Bearer wrong-token-of-32-characters-xx'])).status,
          401,
        );
        assert.equal((await w.get(`/runs?token=${token}`)).status, 200);
        assert.equal((await metrics()).status, 200);

        // A bad config: logged with its line, the old one kept.
        writeFileSync(join(w.dir, 'watch.yaml'), 'interval: 1s\ntargets:\n  - target: 192.0.2.11\n    probe: [ping]\n');
        w.signal('SIGHUP');
        await w.until('the bad config logged', () => /config not reloaded: .*line 4/.test(w.log()), 10_000);
        assert.match((await metrics()).body, /target="192\.0\.2\.12"/);

        // 192.0.2.12 leaves the config: every one of its series goes.
        writeFileSync(join(w.dir, 'watch.yaml'), config(['192.0.2.11']));
        w.signal('SIGHUP');
        await w.until(
          'the reload logged',
          () => /config reloaded: 1 targets .*removed 192\.0\.2\.12/.test(w.log()),
          30_000,
        );
        const body = (await metrics()).body;
        assert.doesNotMatch(body, /target="192\.0\.2\.12"/);
        assert.match(body, /hopdump_target_up\{target="192\.0\.2\.11"\}/);
        assert.equal(w.exited(), false, 'SIGHUP does not end watch');
      },
    ).finally(() => rmSync(tokenFile, { force: true }));
  });
});
