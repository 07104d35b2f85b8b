import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { findTopology } from '../../src/lab/lab.js';
import { findPath } from '../../src/path/find.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { hopdump, host, nsOf, withLab } from '../helpers/lab.js';

/**
 * Infrastructure found where it runs (issue 16, section 2): the lab's private
 * Open vSwitch, dockerd and libvirtd are started with their directories and
 * sockets in a directory this test picks (HOPDUMP_LAB_DAEMON_DIR), which no
 * code outside the lab knows. discover finds each by its process (the socket
 * on its command line, its network namespace), and path/diagnose work there.
 */
const DIR = mkdtempSync('/tmp/hopdump-moved-');
process.env['HOPDUMP_LAB_DAEMON_DIR'] = DIR;
after(() => rmSync(DIR, { recursive: true, force: true }));

const vmSkip = (() => {
  for (const p of ['qemu-system-x86_64', 'libvirtd', 'virsh']) if (!host.hasProgram(p)) return `${p} not installed (make deps)`;
  return false;
})();

describe('daemons found by process after their sockets moved', { concurrency: 3 }, () => {
  test('Open vSwitch: its database, bridges, flows and control socket; diagnose names the dropping flow', async () => {
    await withLab({ topology: 'ovs', fault: 'ovs-flow-drop', prefix: 'if' }, async (lab) => {
      const hv = lab.state.hypervisor;
      const t = await lab.discover();
      const ovs = nsOf(t, hv).ovs;
      assert.ok(ovs, 'the OVS in the hypervisor namespace is found');
      assert.equal(ovs.db, `unix:${DIR}/ovs/${hv}/db.sock`, 'by its ovsdb-server --remote=punix: argument');
      assert.equal(ovs.rundir, `${DIR}/ovs/${hv}`, "ovs-vswitchd's OVS_RUNDIR");
      assert.equal(ovs.appctl, `${DIR}/ovs/${hv}/ovs-vswitchd.ctl`, 'its --unixctl socket');
      const brInt = ovs.bridges.find((b) => b.name === 'br-int');
      assert.ok(brInt && brInt.flows.some((f) => f.actions === 'drop'), "br-int's flows are read through its .mgmt socket in the moved run directory");
      for (const ns of t.namespaces.filter((n) => n.id !== hv)) assert.equal(ns.ovs, undefined, `no OVS attributed to ${ns.id}`);
      const vm1 = findTopology('ovs').targets.find((x) => x.name === 'vm1')!;
      const { report } = await diagnoseLab(lab, vm1.address);
      assert.equal(report.causes[0]?.id, 'ovs-flow-drop', `causes: ${report.causes.map((c) => c.id).join(', ')}`);
    });
  });

  test('Docker: the dockerd of the namespace, by its -H unix:// argument; path follows a container', async () => {
    await withLab({ topology: 'docker', prefix: 'if' }, async (lab) => {
      const hv = lab.state.hypervisor;
      const t = await lab.discover();
      assert.equal(t.docker?.endpoint, `unix://${DIR}/docker/${hv}/docker.sock`);
      assert.ok(t.docker.containers.some((c) => c.name === 'ct1' && c.endpoints[0]?.netns), 'its containers, joined to their namespaces');
      const cli = await hopdump(['path', '--netns', hv, '--target', 'ct1']);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /docker0/);
      assert.match(cli.stdout, /guest-nic/);
    });
  });

  test('libvirt: the libvirtd of the namespace, by the unix_sock_dir of its --config; the path reaches the guest', { skip: vmSkip }, async () => {
    await withLab({ topology: 'vm', prefix: 'if' }, async (lab) => {
      const hv = lab.state.hypervisor;
      assert.ok(existsSync(`${DIR}/libvirt/${hv}/sock/libvirt-sock`), 'the socket is where the test put it');
      const t = await lab.discover();
      assert.deepEqual(t.domains?.map((d) => [d.name, d.state]), [['vm1', 'running']]);
      assert.ok(t.namespaces.some((n) => n.id === 'guest:vm1'), "the guest's own view, through the agent over the found socket");
      const p = findPath(t, findTopology('vm').targets[0]!.address);
      assert.equal(p.hops[p.hops.length - 1]?.netns, 'guest:vm1');
    });
  });
});
