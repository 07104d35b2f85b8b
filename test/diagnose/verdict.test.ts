import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderReport } from '../../src/report/text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';

/**
 * Issue 16 §6 on a real lab: a working path with an oddity a check notices
 * (the guest's NIC left promiscuous) is `ok` with no cause; the oddity is a notice.
 */
test('healthy bridged path with the guest NIC promiscuous: ok, causes [], the oddity is a notice', async () => {
  await withLab({ topology: 'bridged', prefix: 'ar' }, async (lab) => {
    await host.run(['ip', 'link', 'set', 'eth0', 'promisc', 'on'], { netns: lab.ns('vm1') });
    const { report } = await diagnoseLab(lab, '192.0.2.11');
    assert.equal(report.status, 'ok', JSON.stringify(report.causes));
    assert.equal(report.loss, null);
    assert.deepEqual(report.causes, []);
    const notice = report.notices.find((n) => n.startsWith('promisc-dependent at '));
    assert.ok(notice, JSON.stringify(report.notices));
    assert.match(notice, /hd-ar[0-9a-f]+-vm1\/eth0 \(not a cause: the path works\): .*is promiscuous/);
    const text = renderReport(report);
    assert.match(text, /causes: none/);
    assert.match(text, /notice: promisc-dependent at /);
  });
});
