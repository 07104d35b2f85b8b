import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';

/**
 * Issue 16 §5 on real labs: when a root cause and the symptom it explains are
 * both found, the root ranks first and the symptom says what explains it
 * (src/checks/rank.ts; the pairs themselves are unit-tested in test/checks/rank.test.ts).
 */
describe('root causes before their symptoms (labs)', { concurrency: 1 }, () => {
  test('a guest NIC down behind its veth: guest-nic-down first; the drops on its backend and the STP state there rank below it', async () => {
    await withLab({ topology: 'bridged', prefix: 'ar' }, async (lab) => {
      await host.run(['ip', 'link', 'set', 'eth0', 'down'], { netns: lab.ns('vm1') });
      const { report } = await diagnoseLab(lab, '192.0.2.11', { probes: ['icmp'] });
      const story = report.causes
        .map((c) => `${c.id}:${c.confidence.toFixed(2)} at ${c.device?.ifname} ${c.evidence.at(-1)}`)
        .join(' | ');
      assert.equal(report.causes[0]?.id, 'guest-nic-down', story);
      // Which symptom shows depends on a race in the kernel: the veth counts tx_dropped on vnet0
      // only for frames the bridge sent before it noticed the lost carrier and disabled the port
      // (STP state disabled). Under load either or both appear; at least one always does, and
      // whichever does must rank below its root cause and say so.
      const drops = report.causes.find((c) => c.id === 'device-drops');
      const stp = report.causes.find((c) => c.id === 'stp-blocking');
      assert.ok(
        drops || stp,
        `a symptom of the down NIC beside it (tx drops on vnet0, or its port disabled): ${story}`,
      );
      if (drops)
        assert.match(
          drops.evidence.join('\n'),
          /ranked below guest-nic-down at hd-[a-z0-9]+-vm1\/eth0, which explains it/,
          story,
        );
      if (stp) {
        assert.match(stp.evidence.join('\n'), /ranked below (guest-nic-down|link-down)/, story);
        assert.ok(report.causes.indexOf(stp) > 0);
      }
    });
  });

  test('ip-conflict: the RST from the other host does not make it service-not-listening', async () => {
    await withLab({ topology: 'bridged', fault: 'ip-conflict', prefix: 'ar' }, async (lab) => {
      const { report } = await diagnoseLab(lab, '192.0.2.11', { probes: ['tcp:80'] });
      const story = report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)} ${c.evidence.at(-1)}`).join(' | ');
      assert.equal(report.causes[0]?.id, 'ip-conflict', story);
      const rst = report.causes.find((c) => c.id === 'service-not-listening');
      if (rst) assert.match(rst.evidence.join('\n'), /ranked below ip-conflict/, story);
    });
  });
});
