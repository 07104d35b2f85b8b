import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { contribFile, dashboardQueries, withoutVariables } from '../helpers/dashboard.js';
import { HOPDUMP, host, withLab } from '../helpers/lab.js';

/**
 * watch against a real Prometheus (Debian's package), both in a namespace of the test's own
 * (hd-<lab>-mon: its own loopback, nothing on the host's): the lab's target is up; a firewall
 * fault is put in; PromQL over Prometheus' HTTP API sees hopdump_target_up go to 0 and
 * hopdump_target_cause name the cause and the hop; the fault is removed and the target comes back,
 * its cause series gone.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(mon: string, promPort: number, q: string): Promise<Sample[]> {
  const r = await host.run(
    ['curl', '-sf', '--max-time', '3', `http://127.0.0.1:${promPort}/api/v1/query`, '--data-urlencode', `query=${q}`],
    { netns: mon, okCodes: 'any' },
  );
  if (r.code !== 0) return [];
  const body = JSON.parse(r.stdout) as { data: { result: Sample[] } };
  return body.data.result;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(500);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function start(argv: string[], log: string[]): ChildProcess {
  const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  c.stdout.on('data', (b: Buffer) => log.push(b.toString()));
  c.stderr.on('data', (b: Buffer) => log.push(b.toString()));
  return c;
}

test('watch + Prometheus: target up, a firewall drop turns it down with its cause and hop, then back up', async () => {
  await withLab({ topology: 'bridged', prefix: 'wp' }, async (lab) => {
    const mon = lab.ns('mon');
    const dir = mkdtempSync(join(tmpdir(), 'hd-watch-prom-'));
    const children: ChildProcess[] = [];
    const logs: string[] = [];
    try {
      await host.run(['ip', 'netns', 'add', mon]);
      await host.run(['ip', 'link', 'set', 'lo', 'up'], { netns: mon });
      const watchPort = 17291;
      const promPort = 9090;
      writeFileSync(
        join(dir, 'watch.yaml'),
        `interval: 1s
diagnose:
  minInterval: 5s
  timeout: 60s
targets:
  - target: 192.0.2.11
    netns: ${lab.state.hypervisor}
    from: netns:${lab.ns('client')}
    probe: [icmp, tcp:80]
    name: vm1
`,
      );
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${contribFile('prometheus/alerts.yml')}
scrape_configs:
  - job_name: hopdump
    static_configs:
      - targets: ['127.0.0.1:${watchPort}']
`,
      );
      children.push(
        start(
          [
            'ip',
            'netns',
            'exec',
            mon,
            HOPDUMP,
            'watch',
            '--config',
            join(dir, 'watch.yaml'),
            '--runs',
            join(dir, 'runs'),
          ],
          logs,
        ),
        start(
          [
            'ip',
            'netns',
            'exec',
            mon,
            'prometheus',
            `--config.file=${join(dir, 'prometheus.yml')}`,
            `--storage.tsdb.path=${join(dir, 'data')}`,
            `--web.listen-address=127.0.0.1:${promPort}`,
          ],
          logs,
        ),
      );
      const upIs = (v: string) => async () => {
        const r = await query(mon, promPort, 'hopdump_target_up{target="vm1"}');
        return r[0]?.value[1] === v ? r : undefined;
      };
      await until('vm1 up in Prometheus', upIs('1'), 60_000);

      const rule = ['FORWARD', '-m', 'physdev', '--physdev-out', 'vnet0', '-d', '192.0.2.11/32', '-j', 'DROP'];
      await host.run(['iptables', '-I', ...rule], { netns: lab.state.hypervisor });
      await until('vm1 down in Prometheus', upIs('0'), 30_000);
      const cause = await until(
        'hopdump_target_cause for vm1',
        async () => {
          const r = await query(mon, promPort, 'hopdump_target_cause{target="vm1"} == 1');
          return r.length ? r : undefined;
        },
        60_000,
      );
      assert.equal(cause.length, 1);
      assert.equal(cause[0]!.metric.cause, 'firewall-drop');
      assert.equal(cause[0]!.metric.hop, `${lab.state.hypervisor}/vnet0`);
      const runs = await query(mon, promPort, 'hopdump_diagnose_runs_total{result="broken"}');
      assert.equal(runs[0]?.value[1], '1');
      // The alert rule sees it (pending: it waits a minute before firing).
      await until(
        'HopdumpTargetDown pending for vm1',
        async () =>
          (await query(mon, promPort, 'ALERTS{alertname="HopdumpTargetDown",target="vm1"}')).length ? true : undefined,
        15_000,
      );
      // The firewall rule's counter and the kernel's reason are on /metrics too.
      await until(
        'the drop rule counted for vm1 and NETFILTER_DROP among the kernel drops',
        async () => {
          const fw = await query(
            mon,
            promPort,
            'hopdump_firewall_rule_drops_total{target="vm1",table="iptables filter",chain="FORWARD"} > 0',
          );
          const k = await query(mon, promPort, 'hopdump_kernel_drops_total{reason="NETFILTER_DROP"} > 0');
          return fw.length && k.length ? true : undefined;
        },
        20_000,
      );
      // Every query of the Grafana dashboard returns at least one series from this Prometheus.
      // (A rate or an increase needs two scrapes of a series that has just appeared: retried.)
      for (const q of dashboardQueries())
        await until(
          `a series from the dashboard query ${withoutVariables(q)}`,
          async () => ((await query(mon, promPort, withoutVariables(q))).length > 0 ? true : undefined),
          10_000,
        );

      await host.run(['iptables', '-D', ...rule], { netns: lab.state.hypervisor });
      await until('vm1 up again', upIs('1'), 30_000);
      await until(
        'the cause series gone',
        async () =>
          (await query(mon, promPort, 'hopdump_target_cause{target="vm1"}')).length === 0 ? true : undefined,
        15_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- logs ---\n${logs.join('').slice(-3000)}`, { cause: err });
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
      await host.run(['ip', 'netns', 'del', mon], { okCodes: 'any' });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
