import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { durationMs, parseWatchConfig } from '../../src/watch/config.js';
import { parseListen } from '../../src/watch/http.js';

const err = (text: string) => {
  try {
    parseWatchConfig(text, 'watch.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('a config: defaults filled in, durations in milliseconds', () => {
  const c = parseWatchConfig(
    `interval: 5s
targets:
  - target: 192.0.2.11
    netns: hd-lab-hv
    from: netns:hd-lab-client
    probe: [icmp, tcp:8443]
    name: web-1
  - target: 192.0.2.12
`,
    'watch.yaml',
  );
  assert.equal(c.interval, 5000);
  assert.deepEqual(c.diagnose, { enabled: true, minInterval: 600_000, timeout: 120_000 });
  assert.equal(c.targets[0]!.name, 'web-1');
  assert.deepEqual(c.targets[0]!.probe, ['icmp', 'tcp:8443']);
  assert.equal(c.targets[1]!.probe, undefined);
  assert.equal(durationMs('500ms'), 500);
  assert.equal(durationMs('2m'), 120_000);
  assert.equal(durationMs('10'), undefined);
  assert.equal(durationMs(3), 3000);
});

test('a bad config: one line naming the file, the line and the key', () => {
  assert.equal(
    err(`interval: 10s
targets:
  - target: 192.0.2.11
    probe: [icmp, ping]
`),
    'watch.yaml line 4: targets[0].probe[1]: "ping" is not a watch probe (icmp or tcp:PORT)',
  );
  assert.equal(
    err(`targets:
  - target: 192.0.2.11
    prob: [icmp]
`),
    'watch.yaml line 3: targets[0].prob: unknown key (known: target, netns, from, probe, name, interval)',
  );
  assert.equal(
    err(`interval: soon\ntargets: [{target: 192.0.2.11}]\n`),
    'watch.yaml line 1: interval: "soon" is not a duration (e.g. 10s, 500ms, 2m)',
  );
  assert.equal(
    err(`targets:\n  - target: 192.0.2.11\n  - target: 192.0.2.11\n`),
    'watch.yaml line 3: targets[1].target: "192.0.2.11" is already the name of targets[0] (give one a name:)',
  );
  assert.equal(err(`interval: 10s\n`), 'watch.yaml line 1: targets: names no target (and discover is not true)');
  assert.match(err(`targets: [\n  - x\n`), /^watch\.yaml line \d+: /);
  assert.equal(
    err(`diagnose:\n  timeout: 1m\n  retries: 3\ntargets: [{target: 192.0.2.11}]\n`),
    'watch.yaml line 3: diagnose.retries: unknown key (known: enabled, minInterval, timeout)',
  );
});

test('--listen: loopback or not, IPv6 in brackets, clear errors', () => {
  assert.deepEqual(parseListen('127.0.0.1:17291'), { host: '127.0.0.1', port: 17291, loopback: true });
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000, loopback: true });
  assert.deepEqual(parseListen('0.0.0.0:17291'), { host: '0.0.0.0', port: 17291, loopback: false });
  assert.deepEqual(parseListen(':17291'), { host: '::', port: 17291, loopback: false });
  assert.throws(() => parseListen('localhost'), /is not ADDR:PORT/);
  assert.throws(() => parseListen('192.0.2.1:70000'), /is not ADDR:PORT/);
});

test('hopdump watch with a bad config: one line on stderr, exit 2 (before anything runs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-watch-config-'));
  try {
    writeFileSync(join(dir, 'w.yaml'), 'interval: 10s\ntargets:\n  - target: 192.0.2.11\n    probe: [udp:53]\n');
    let err = '';
    const code = await run(['watch', '--config', join(dir, 'w.yaml')], {
      stdout: () => undefined,
      stderr: (t) => void (err += t),
      isTTY: false,
    });
    assert.equal(code, 2);
    assert.equal(
      err,
      `hopdump watch: ${join(dir, 'w.yaml')} line 4: targets[0].probe[0]: "udp:53" is not a watch probe (icmp or tcp:PORT)\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
