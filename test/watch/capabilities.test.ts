import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { HOPDUMP, runProgram, withLab } from '../helpers/lab.js';

/**
 * The service unit's CapabilityBoundingSet is the set hopdump needs: a diagnose of a lab fault
 * run with exactly those capabilities (setpriv --bounding-set; hopdump runs as root) finds the
 * fault with every hop captured and every firewall read; without each of the four that the lab
 * can show, something is lost. (CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH matter for processes and
 * files of other users, which the lab does not have: the unit says why each is there.)
 */
const UNIT = fileURLToPath(new URL('../../../contrib/systemd/hopdump-watch.service', import.meta.url));

function unitCaps(): string[] {
  const line = readFileSync(UNIT, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapabilityBoundingSet='))!;
  return line
    .slice('CapabilityBoundingSet='.length)
    .trim()
    .split(/\s+/)
    .map((c) => c.replace(/^CAP_/, '').toLowerCase());
}

test('the unit’s capabilities are enough for a diagnose, and four of them are each needed', async () => {
  const caps = unitCaps();
  assert.deepEqual(caps, ['net_admin', 'net_raw', 'sys_admin', 'setgid', 'sys_ptrace', 'dac_read_search']);
  await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'cap' }, async (lab) => {
    const diagnoseWith = (set: string[]) =>
      runProgram('setpriv', [
        `--bounding-set=-all,${set.map((c) => `+${c}`).join(',')}`,
        '--inh-caps=-all',
        '--',
        HOPDUMP,
        'diagnose',
        '--netns',
        lab.state.hypervisor,
        '--target',
        '192.0.2.11',
        '--from',
        `netns:${lab.ns('client')}`,
        '--json',
        '--out',
        '-',
      ]);
    const parse = (stdout: string) =>
      JSON.parse(stdout) as {
        causes: Array<{ id: string }>;
        hops: Array<{ observed: boolean; notObservedReason?: string; role: string }>;
        notices: string[];
      };
    const without = (c: string) => diagnoseWith(caps.filter((x) => x !== c));
    const [all, noRaw, noAdmin, noSetgid, noSys] = await Promise.all([
      diagnoseWith(caps),
      without('net_raw'),
      without('net_admin'),
      without('setgid'),
      without('sys_admin'),
    ]);
    assert.equal(all.code, 1, all.stderr);
    const report = parse(all.stdout);
    assert.equal(report.causes[0]?.id, 'firewall-drop');
    assert.deepEqual(
      report.hops.filter((h) => h.role !== 'bridge' && !h.observed).map((h) => h.notObservedReason),
      [],
    );
    assert.deepEqual(
      report.notices.filter((n) => /not read|not permitted/.test(n)),
      [],
    );
    // Each of these four, taken away, costs the diagnosis something.
    assert.ok(
      parse(noRaw.stdout).hops.some((h) => /permission to perform this capture/.test(h.notObservedReason ?? '')),
      'without CAP_NET_RAW tcpdump cannot capture',
    );
    // ...and the report says its verdict rests on the probes alone.
    assert.ok(
      parse(noRaw.stdout).notices.some((n) =>
        /^no hop could be captured .*: this verdict rests on the probes alone$/.test(n),
      ),
    );
    assert.ok(
      parse(noAdmin.stdout).notices.some((n) => /firewall of .* not read/.test(n)),
      'without CAP_NET_ADMIN the firewall cannot be read',
    );
    assert.ok(
      parse(noSetgid.stdout).hops.some((h) => /Couldn't change to 'root'/.test(h.notObservedReason ?? '')),
      'without CAP_SETGID tcpdump -Z root fails',
    );
    // Without CAP_SYS_ADMIN no namespace can be entered: one clear line, exit 3, no stack trace
    // (this once ended in an unhandled rejection).
    assert.equal(noSys.code, 3, noSys.stderr);
    assert.match(noSys.stderr, /^hopdump diagnose: .*Operation not permitted\n$/);
  });
});
