import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { guestExec } from '../../src/host/guest-agent.js';
import { libvirtUri } from '../../src/lab/libvirt.js';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { hopdump, host, withLab } from '../helpers/lab.js';

/** diagnose against the real QEMU guest of the vm lab (skipped only where QEMU/libvirt cannot run). */
const skip = (() => {
  for (const p of ['qemu-system-x86_64', 'libvirtd', 'virsh'])
    if (!host.hasProgram(p)) return `${p} not installed (make deps)`;
  return false;
})();

describe('diagnose a libvirt guest', { concurrency: 2, skip }, () => {
  test('by domain name: the guest agent joins the guest NIC to its tap, the guest capture is its own pcapng interface', async () => {
    await withLab({ topology: 'vm', prefix: 'vd' }, async (lab) => {
      const out = mkdtempSync(join(tmpdir(), 'hopdump-vm-'));
      try {
        const r = await hopdump([
          'diagnose',
          '--netns',
          lab.state.hypervisor,
          '--from',
          `netns:${lab.state.client}`,
          '--target',
          'vm1',
          '--json',
          '--out',
          out,
        ]);
        const report = ReportSchema.parse(JSON.parse(r.stdout));
        assert.equal(report.status, 'ok', r.stdout.slice(0, 2000));
        assert.equal(report.path.target.type, 'domain');
        assert.deepEqual(
          report.path.hops.map((h) => `${h.netns.replace(/^hd-[a-z0-9]+-/, '')}/${h.ifname}:${h.role}`),
          ['hv/eth0:uplink', 'hv/br0:bridge', 'hv/vnet0:backend', 'guest:vm1/eth0:guest-nic'],
        );
        const guest = report.hops.find((h) => h.netns === 'guest:vm1')!;
        assert.ok(
          guest.observed && guest.toTarget > 0 && guest.fromTarget > 0,
          'the capture inside the guest saw both directions',
        );
        assert.ok(
          report.probes.some((p) => p.kind === 'tcp' && p.port === 80),
          "the guest's listening port (read through the agent) is probed",
        );
        // capture.pcapng: an interface block named after the guest's NIC.
        const ng = readFileSync(join(out, 'capture.pcapng')).toString('latin1');
        assert.ok(ng.includes('guest:vm1/eth0'), 'the guest NIC is an interface of capture.pcapng');
        const read = await hopdump(['read', join(out, 'capture.pcapng')]);
        assert.ok(
          read.stdout.split('\n').some((l) => l.includes('guest:vm1/eth0') && l.includes('ICMP echo request')),
          read.stdout.slice(0, 1500),
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });

  test('without a guest agent: a warning, the path stops at the tap, and still a verdict', async () => {
    await withLab({ topology: 'vm', prefix: 'vn' }, async (lab) => {
      // The agent ends itself; every later agent call times out.
      await guestExec(host, libvirtUri(lab.state.hypervisor), 'vm1', ['killall', 'qemu-ga'], { timeoutMs: 5000 }).catch(
        () => undefined,
      );
      // Without the guest's own view the address comes from the host's neighbour table (the
      // domain XML's MAC): a hypervisor that has talked to its guest has it.
      await host.run(['ping', '-c', '1', '-W', '2', '192.0.2.11'], { netns: lab.state.hypervisor });
      const { report } = await diagnoseLab(lab, 'vm1', { probes: ['icmp'] });
      ReportSchema.parse(report);
      assert.ok(
        report.notices.some((n) => /guest agent of vm1 not responding.*stops at its tap/.test(n)),
        report.notices.join('\n'),
      );
      assert.equal(report.path.hops.at(-1)!.ifname, 'vnet0');
      assert.equal(report.status, 'ok', JSON.stringify(report.causes));
      assert.equal(report.probes[0]!.answered, report.probes[0]!.sent);
    });
  });
});
