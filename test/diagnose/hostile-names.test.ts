import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReportSchema } from '../../src/model/report.js';
import { hopdump, host, runProgram, withLab } from '../helpers/lab.js';

/**
 * Issue 17: a guest or container with NET_ADMIN chooses its interface names, and Linux allows
 * `$`, `(`, `;`, `|` and quotes in them. Every fix line hopdump prints must be safe to paste:
 * each line is run by bash with a PATH of fake programs that only record their argv, and a fake
 * `id` that would leave a canary if anything were substituted.
 */
const BACKEND = 'x$(id)';
const GUEST_NIC = "a;b'q";

test('hostile interface names: the printed fix is safe to paste and names the device as one word', async () => {
  await withLab({ topology: 'bridged', fault: 'link-down', prefix: 'hn' }, async (lab) => {
    // The fault left vnet0 down: rename it (and vm1's NIC, up again after) as a hostile guest owner could.
    await host.run(['ip', 'link', 'set', 'vnet0', 'name', BACKEND], { netns: lab.state.hypervisor });
    await host.run(['ip', 'link', 'set', 'eth0', 'down'], { netns: lab.ns('vm1') });
    await host.run(['ip', 'link', 'set', 'eth0', 'name', GUEST_NIC], { netns: lab.ns('vm1') });
    await host.run(['ip', 'link', 'set', GUEST_NIC, 'up'], { netns: lab.ns('vm1') });

    const r = await hopdump([
      'diagnose',
      '--netns',
      lab.state.hypervisor,
      '--from',
      `netns:${lab.state.client}`,
      '--target',
      '192.0.2.11',
      '--probe',
      'icmp',
      '--json',
      '--out',
      '-',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const report = ReportSchema.parse(JSON.parse(r.stdout));
    assert.ok(
      report.path.hops.some((h) => h.ifname === BACKEND),
      'the hostile backend is on the path',
    );
    const top = report.causes[0]!;
    assert.equal(top.id, 'link-down', JSON.stringify(report.causes.map((c) => c.id)));
    assert.equal(top.device?.ifname, BACKEND);

    const dir = mkdtempSync(join(tmpdir(), 'hopdump-paste-'));
    try {
      const canary = join(dir, 'SUBSTITUTED');
      const log = join(dir, 'argv.log');
      for (const program of [
        'ip',
        'nsenter',
        'tc',
        'nft',
        'iptables',
        'ip6tables',
        'sysctl',
        'bridge',
        'ss',
        'arping',
        'tcpdump',
        'ovs-vsctl',
        'ovs-ofctl',
        'ovs-appctl',
        'env',
        'docker',
        'ovn-nbctl',
      ]) {
        writeFileSync(
          join(dir, program),
          `#!/bin/bash\n{ printf '%s' ${JSON.stringify(program)}; printf '\\x1f%s' "$@"; printf '\\n'; } >> ${JSON.stringify(log)}\n`,
        );
        chmodSync(join(dir, program), 0o755);
      }
      writeFileSync(join(dir, 'id'), `#!/bin/bash\ntouch ${JSON.stringify(canary)}\n`);
      chmodSync(join(dir, 'id'), 0o755);
      const lines = report.causes.flatMap((c) => c.fix);
      assert.ok(lines.length > 0);
      for (const line of lines) {
        const run = await runProgram('/bin/bash', ['-c', line], { PATH: dir });
        assert.ok(!existsSync(canary), `pasting "${line}" ran a substitution (${run.stderr})`);
      }
      const calls = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('\x1f'));
      const up = calls.find(
        (argv) => argv[0] === 'ip' && argv.includes('set') && argv.includes('up') && argv.includes(BACKEND),
      );
      assert.ok(up, `a fix sets ${BACKEND} up, named as one word: ${JSON.stringify(calls)}`);
      assert.deepEqual(up.slice(-4), ['link', 'set', BACKEND, 'up']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
