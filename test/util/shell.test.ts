import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { printable } from '../../src/util/printable.js';
import { iptablesWords, remark, sh, shq, verbatim, withRemark } from '../../src/util/shell.js';

/** What bash makes of a command line: its words, without running anything. */
function words(line: string): string[] {
  const r = spawnSync('bash', ['-c', `set -f; args() { printf '%s\\0' "$@"; }; eval "args $1"`, 'bash', line], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

test('shq leaves plain words alone and makes every other string exactly one word', () => {
  assert.equal(shq('vnet0'), 'vnet0');
  assert.equal(shq('198.51.100.1/32'), '198.51.100.1/32');
  assert.equal(shq(80), '80');
  for (const hostile of ['x$(id)', 'a;b', "it's", 'a b', '`id`', '*', '', 'a\nb', '~root', '{a,b}', '!x']) {
    assert.deepEqual(words(shq(hostile)), [hostile], hostile);
  }
});

test('sh quotes values, keeps its own text, and takes arrays as one word each', () => {
  assert.equal(sh`ip link set ${'vnet0'} up`, 'ip link set vnet0 up');
  const line = sh`ip netns exec ${'ns;rm'} ip link set ${'x$(id)'} master ${"q'b"}`;
  assert.deepEqual(words(line), ['ip', 'netns', 'exec', 'ns;rm', 'ip', 'link', 'set', 'x$(id)', 'master', "q'b"]);
  assert.deepEqual(words(sh`iptables ${verbatim('-t nat')} ${['-D', 'c$(id)', '-j', 'DROP']}`), [
    'iptables',
    '-t',
    'nat',
    '-D',
    'c$(id)',
    '-j',
    'DROP',
  ]);
});

test('a remark cannot be ended by a newline, and control characters are shown, not sent', () => {
  assert.equal(remark('guest a\nrm -rf /'), '# guest a\\x0arm -rf /');
  assert.deepEqual(words(withRemark(sh`ip link set ${'eth0'} up`, 'x\ny $(id)')), ['ip', 'link', 'set', 'eth0', 'up']);
  assert.equal(printable('\x1b]0;pwned\x07ok'), '\\x1b]0;pwned\\x07ok');
});

test('iptables-save words: double quotes and escapes as iptables-save writes them', () => {
  assert.deepEqual(iptablesWords('-A FORWARD -i eth0 -m comment --comment "a \\"b\\" $(id)" -j DROP'), [
    '-A',
    'FORWARD',
    '-i',
    'eth0',
    '-m',
    'comment',
    '--comment',
    'a "b" $(id)',
    '-j',
    'DROP',
  ]);
});
