import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labTopology, variantOf } from '../../src/lab/lab.js';
import { drawVariant } from '../../src/lab/variant.js';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { host, withLab } from '../helpers/lab.js';

/**
 * A macvlan inside the guest (docs/lab.md, "Variants": guestMacvlan): the guest's NIC is the lower
 * device of a macvlan child that holds its address and MAC. Beyond the variant tests' faults: what
 * only this shape can do.
 */
const seed = Array.from({ length: 100 }, (_, s) => s).find(
  (s) => drawVariant('bridged', s).drawn.guestMacvlan !== 'no',
)!;

describe(`a macvlan inside the guest (bridged, variant ${seed})`, { concurrency: 2 }, () => {
  test("ARP flux: the guest NIC answers ARP for its macvlan's address; packets taken up at the NIC are delivered, not lost (a notice says why)", async () => {
    await withLab({ topology: 'bridged', prefix: 'gm', variant: seed }, async (lab) => {
      const plan = variantOf(lab.state)!;
      const vm1 = labTopology(lab.state).targets[0]!;
      const nic = plan.ifnames.vm1!.eth0!;
      const { nicMac, child } = plan.guestMacvlans.find((g) => g.role === 'vm1')!;
      // The kernel's default: the NIC answers for any of the guest's addresses; the client took its answer.
      await host.run(['sysctl', '-q', '-w', `net.ipv4.conf.${nic}.arp_ignore=0`], { netns: lab.ns('vm1') });
      await host.run(['ip', 'neigh', 'replace', vm1.address, 'lladdr', nicMac, 'dev', 'eth0', 'nud', 'permanent'], {
        netns: lab.ns('client'),
      });
      const { report } = await diagnoseLab(lab, vm1.address);
      ReportSchema.parse(report);
      const story = `${report.status} loss=${JSON.stringify(report.loss)} causes=${report.causes.map((c) => c.id).join(',')} notices=${report.notices.join(' | ')}`;
      assert.equal(report.target.ifname, child, story);
      assert.equal(report.status, 'ok', story);
      assert.equal(report.loss, null, story);
      assert.deepEqual(report.causes, [], story);
      assert.ok(
        report.notices.some(
          (n) =>
            n.includes(`${nic}'s own MAC ${nicMac}`) &&
            /ARP flux/.test(n) &&
            n.includes(`net.ipv4.conf.${nic}.arp_ignore=1`),
        ),
        story,
      );
    });
  });

  test("the guest NIC down: link-down at the NIC, and the macvlan's own no-carrier names its lower device", async () => {
    await withLab({ topology: 'bridged', prefix: 'gm', variant: seed }, async (lab) => {
      const plan = variantOf(lab.state)!;
      const vm1 = labTopology(lab.state).targets[0]!;
      const nic = plan.ifnames.vm1!.eth0!;
      const { child } = plan.guestMacvlans.find((g) => g.role === 'vm1')!;
      await host.run(['ip', 'link', 'set', nic, 'down'], { netns: lab.ns('vm1') });
      const { report } = await diagnoseLab(lab, vm1.address, { probes: ['icmp'] });
      const story = `${report.status} causes=${report.causes.map((c) => `${c.id}@${c.device?.ifname}: ${c.summary}`).join(' | ')}`;
      assert.equal(report.status, 'broken', story);
      assert.equal(report.causes[0]?.id, 'link-down', story);
      assert.ok(
        report.causes[0].fix.some((f) => f.endsWith(`ip link set ${nic} up`)),
        story,
      );
      const onChild = report.causes.find((c) => c.device?.ifname === child);
      assert.ok(
        !onChild ||
          (onChild.summary.includes(`its lower device ${lab.ns('vm1')}/${nic} is down`) &&
            onChild.fix.some((f) => f.endsWith(`ip link set ${nic} up`))),
        story,
      );
    });
  });
});
