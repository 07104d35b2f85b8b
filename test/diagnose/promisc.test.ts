import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { diagnoseLab } from '../helpers/diagnose.js';
import { HOPDUMP, host, withLab } from '../helpers/lab.js';

async function promiscuity(netns: string, ifname: string): Promise<number> {
  const r = await host.run(['ip', '-j', '-d', 'link', 'show', ifname], { netns });
  return (JSON.parse(r.stdout) as Array<{ promiscuity: number }>)[0]!.promiscuity;
}

describe('--promisc-test (the one opt-in state change)', { concurrency: true }, () => {
  test('proves the seed 001 dependency and leaves docker0 as it was', async () => {
    await withLab({ topology: 'routed', fault: 'promisc-dependent', prefix: 'm' }, async (lab) => {
      const { report } = await diagnoseLab(lab, '203.0.113.2', { probes: ['icmp'], promiscTest: true });
      const top = report.causes[0]!;
      assert.equal(top.id, 'promisc-dependent');
      assert.equal(top.confidence, 0.99);
      assert.ok(
        top.evidence.some((e) => /promiscuous 3\/3 probes answered, without 0\/3: .*proved/.test(e)),
        top.evidence.join('\n'),
      );
      assert.equal(await promiscuity(lab.state.hypervisor, 'docker0'), 0);
    });
  });

  test('without a suspect it changes nothing and says so', async () => {
    await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'n' }, async (lab) => {
      const { report } = await diagnoseLab(lab, '192.0.2.11', { probes: ['icmp'], count: 2, promiscTest: true });
      assert.ok(report.notices.some((n) => /--promisc-test: no suspect device/.test(n)));
      assert.equal(report.causes[0]?.id, 'firewall-drop');
    });
  });

  test('SIGKILL of hopdump during the experiment: the device is restored', async () => {
    await withLab({ topology: 'routed', fault: 'promisc-dependent', prefix: 'q' }, async (lab) => {
      const child = spawn(
        HOPDUMP,
        [
          'diagnose',
          '--netns',
          lab.state.hypervisor,
          '--from',
          `netns:${lab.state.client}`,
          '--target',
          '203.0.113.2',
          '--probe',
          'icmp',
          '--count',
          '20',
          '--promisc-test',
          '--out',
          '-',
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      try {
        const end = Date.now() + 60_000;
        while ((await promiscuity(lab.state.hypervisor, 'docker0')) === 0) {
          assert.ok(Date.now() < end, 'the experiment never started');
          await new Promise((r) => setTimeout(r, 50));
        }
        child.kill('SIGKILL');
        await exited;
        const until = Date.now() + 5000;
        while ((await promiscuity(lab.state.hypervisor, 'docker0')) !== 0) {
          assert.ok(Date.now() < until, 'docker0 stayed promiscuous after hopdump was killed');
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
