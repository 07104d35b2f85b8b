import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { diagnoseLab } from '../helpers/diagnose.js';
import { HOPDUMP, host, withLab } from '../helpers/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live (not zombie) tcpdump processes inside the given namespaces. */
async function tcpdumpsIn(namespaces: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of namespaces) {
    const r = await host.run(['ip', 'netns', 'pids', ns], { okCodes: 'any' });
    for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (comm === 'tcpdump' && state !== 'Z') pids.push(pid);
      } catch {
        /* gone */
      }
    }
  }
  return pids;
}

/** promiscuity counts of every interface in the namespaces, from ip -d. */
async function promiscuity(namespaces: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const ns of namespaces) {
    const r = await host.run(['ip', '-j', '-d', 'link', 'show'], { netns: ns });
    for (const l of JSON.parse(r.stdout) as Array<{ ifname: string; promiscuity: number }>)
      out[`${ns}/${l.ifname}`] = l.promiscuity;
  }
  return out;
}

/** hopdump's tracefs instances that exist now (looked at through a private mount). */
async function traceInstances(): Promise<string[]> {
  const r = await host.run(
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'd=$(mktemp -d) && mount -t tracefs nodev "$d" && ls "$d/instances"; umount "$d"; rmdir "$d"',
    ],
    { okCodes: 'any' },
  );
  return r.stdout.split(/\s+/).filter((n) => n.startsWith(`hopdump-`));
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('capture lifecycle', { concurrency: true }, () => {
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`${signal} of hopdump mid-capture leaves no tcpdump, no promiscuous interface and no spool file`, async () => {
      await withLab({ topology: 'bridged', prefix: 'k' }, async (lab) => {
        const before = await promiscuity(lab.state.namespaces);
        // Its own TMPDIR: where the tcpdumps' spool files are, apart from the other tests'.
        const tmp = mkdtempSync(join(tmpdir(), 'hd-lifecycle-'));
        const spools = () => readdirSync(tmp).filter((n) => n.startsWith('hopdump-spool-'));
        const child = spawn(
          HOPDUMP,
          [
            'diagnose',
            '--netns',
            lab.state.hypervisor,
            '--target',
            '192.0.2.11',
            '--passive',
            '--duration',
            '60',
            '--out',
            '-',
          ],
          { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } },
        );
        const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
        try {
          // A bound, not a pace: discovery on a loaded 2-core machine (four of these labs at once) can take long.
          await waitFor(
            '3 tcpdumps to start',
            async () => (await tcpdumpsIn(lab.state.namespaces)).length === 3,
            60_000,
          );
          // While capturing, -p keeps every interface's promiscuity as it was.
          assert.deepEqual(await promiscuity(lab.state.namespaces), before);
          // The tcpdumps write to private files (0700 directory named for hopdump's pid, files 0600).
          assert.deepEqual(spools().length, 1);
          const spool = join(tmp, spools()[0]!);
          assert.match(spool, new RegExp(`hopdump-spool-${child.pid}-`));
          assert.equal(statSync(spool).mode & 0o777, 0o700);
          assert.deepEqual(
            readdirSync(spool).map((f) => statSync(join(spool, f)).mode & 0o777),
            [0o600, 0o600, 0o600],
          );
          // The tracer starts alongside the captures, so it may still be mounting tracefs.
          let tracer: string[] = [];
          await waitFor(
            'a private tracefs instance tracing kernel drops during the window',
            async () => {
              tracer = (await traceInstances()).filter((n) => n.endsWith(`-${child.pid}`));
              return tracer.length === 1;
            },
            10_000,
          );
          child.kill(signal);
          const code = await exited;
          // The shell's convention: 128 + the signal's number (SIGKILL leaves no code of its own).
          if (signal !== 'SIGKILL') assert.equal(code, 128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal]);
          await waitFor(
            'every tcpdump to end',
            async () => (await tcpdumpsIn(lab.state.namespaces)).length === 0,
            5_000,
          );
          await waitFor(
            'the tracefs instance to be removed',
            async () => !(await traceInstances()).includes(tracer[0]!),
            5_000,
          );
          assert.deepEqual(await promiscuity(lab.state.namespaces), before);
          if (signal === 'SIGKILL') {
            // Nothing survives SIGKILL: the next diagnose removes the dead run's spool.
            assert.equal(spools().length, 1);
            const next = spawn(
              HOPDUMP,
              [
                'diagnose',
                '--netns',
                lab.state.hypervisor,
                '--target',
                '192.0.2.11',
                '--passive',
                '--duration',
                '1',
                '--out',
                '-',
              ],
              { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } },
            );
            await new Promise((res) => next.on('exit', res));
          }
          assert.deepEqual(spools(), []);
        } finally {
          child.kill('SIGKILL');
          rmSync(tmp, { recursive: true, force: true });
        }
      });
    });
  }

  test('a backend deleted mid-capture: a verdict, that hop not observed, no hang', async () => {
    await withLab({ topology: 'bridged', prefix: 'v' }, async (lab) => {
      const run = diagnoseLab(lab, '192.0.2.11', { probes: ['icmp'], count: 15 });
      // A bound, not a pace: under the whole suite's load discovery alone has taken over 15 s.
      await waitFor(
        'the captures to start',
        async () => (await tcpdumpsIn([lab.state.hypervisor, lab.ns('vm1')])).length === 3,
        60_000,
      );
      await sleep(800);
      await host.run(['ip', 'link', 'del', 'vnet0'], { netns: lab.state.hypervisor });
      const { report } = await run;
      const vnet0 = report.hops.find((h) => h.ifname === 'vnet0')!;
      assert.equal(vnet0.observed, false);
      assert.match(vnet0.notObservedReason ?? '', /capture failed/);
      assert.notEqual(report.status, 'ok');
      assert.ok(report.loss, 'the loss is located from the other hops');
      assert.deepEqual(await tcpdumpsIn(lab.state.namespaces), []);
    });
  });
});

describe('kernel drop reasons', () => {
  test('NETFILTER_DROP backs up the firewall rule, and the trace instance is gone afterwards', async () => {
    await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 't' }, async (lab) => {
      const { report } = await diagnoseLab(lab, '192.0.2.11', { probes: ['icmp'] });
      const top = report.causes[0]!;
      assert.equal(top.id, 'firewall-drop');
      assert.ok(
        top.evidence.some((e) =>
          /kernel: skb:kfree_skb reason NETFILTER_DROP ×\d+ in nft_do_chain, received on eth0/.test(e),
        ),
        top.evidence.join('\n'),
      );
      assert.ok(!(await traceInstances()).some((n) => n.endsWith(`-${process.pid}`)), 'no instance of ours left');
    });
  });
});

describe('passive diagnosis (seed 000: watch the traffic users already send)', () => {
  test('a guest that only asks ARP is named from users traffic alone, nothing sent by hopdump', async () => {
    await withLab({ topology: 'bridged', fault: 'guest-arp-unresolved', prefix: 'p' }, async (lab) => {
      // The "users": a client that keeps trying, started by the test, not by hopdump.
      const users = spawn(
        'ip',
        ['netns', 'exec', lab.state.client, 'ping', '-n', '-i', '0.3', '-W', '1', '192.0.2.11'],
        { stdio: 'ignore' },
      );
      try {
        const { report } = await diagnoseLab(lab, '192.0.2.11', {
          from: 'host',
          count: 1,
          passive: true,
          durationSec: 3,
        });
        assert.equal(report.probes[0]?.kind, 'passive');
        assert.equal(report.status, 'broken');
        assert.equal(report.causes[0]?.id, 'guest-arp-unresolved', JSON.stringify(report.causes.map((c) => c.id)));
        assert.deepEqual(report.loss?.firstMissingHop?.ifname, 'eth0');
        assert.equal(report.loss?.direction, 'from-target');
      } finally {
        users.kill('SIGKILL');
      }
    });
  });
});
