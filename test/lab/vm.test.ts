import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startGuestCapture } from '../../src/capture/guest.js';
import { guestView } from '../../src/collect/guest-agent.js';
import { guestExec } from '../../src/host/guest-agent.js';
import { listDomains } from '../../src/collect/libvirt.js';
import { FAULTS } from '../../src/lab/lab.js';
import { libvirtDir, libvirtUri } from '../../src/lab/libvirt.js';
import { checkSymptom, healthySymptoms } from '../../src/lab/probe.js';
import { vm } from '../../src/lab/topologies/vm.js';
import type { Namespace } from '../../src/model/topology.js';
import { hopdump, host, leftoverNamespaces, withLab, type RunningLab } from '../helpers/lab.js';

/**
 * The vm lab: a real QEMU guest (TCG) under a private libvirtd in the
 * hypervisor namespace. Skipped only when QEMU or libvirt cannot run here.
 */
const skip = (() => {
  for (const p of ['qemu-system-x86_64', 'libvirtd', 'virsh'])
    if (!host.hasProgram(p)) return `${p} not installed (make deps)`;
  return false;
})();

/** Processes still alive (not zombies) whose command line names this lab's libvirt directory. */
function labProcesses(netns: string): string[] {
  const dir = libvirtDir(netns);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(dir) || cmdline.includes(`${netns}`)) found.push(`${pid} ${cmdline.slice(0, 80)}`);
    } catch {
      /* exited while looking */
    }
  }
  return found;
}

function eth0(view: Namespace) {
  const i = view.interfaces.find((x) => x.ifname === 'eth0');
  assert.ok(i, `the guest has an eth0 (has ${view.interfaces.map((x) => x.ifname).join(', ')})`);
  return i;
}

/** What each vm fault changed, as the collectors see it (libvirt, the guest agent, the hypervisor). */
const SEEN: Record<string, (lab: RunningLab, uri: string) => Promise<void>> = {
  'vm-guest-nic-down': async (_lab, uri) => {
    const nic = eth0(await guestView(host, uri, 'vm1'));
    assert.equal(nic.adminUp, false);
    assert.ok(
      nic.addresses.some((a) => a.local === '192.0.2.11'),
      'the address stays on the downed NIC',
    );
  },
  'vm-guest-firewall': async (_lab, uri) => {
    const view = await guestView(host, uri, 'vm1');
    const chain = view.firewall!.nft.find((c) => c.family === 'inet' && c.table === 'hd_guest' && c.chain === 'input');
    assert.ok(chain, `the guest's nft input chain (have ${JSON.stringify(view.firewall)})`);
    assert.equal(chain.hook, 'input');
    const drops = chain.rules.filter((r) => r.expr.some((e) => typeof e === 'object' && e !== null && 'drop' in e));
    assert.equal(drops.length, 4, 'ICMP and TCP, for IPv4 and IPv6');
    const counted = (r: { expr: unknown[] }) =>
      r.expr.some((e) => ((e as { counter?: { packets?: number } }).counter?.packets ?? 0) > 0);
    assert.ok(drops.some(counted), 'the symptom check made a drop rule count');
  },
  'vm-guest-ignores-arp': async (lab, uri) => {
    const view = await guestView(host, uri, 'vm1');
    const chain = view.firewall!.nft.find((c) => c.family === 'arp');
    assert.equal(chain?.policy, 'drop');
    assert.equal(eth0(view).adminUp, true);
    const client = await host.run(['ip', '-j', 'neigh', 'show', '192.0.2.11'], { netns: lab.state.client });
    assert.match(client.stdout, /PERMANENT/);
  },
  'vm-guest-mac-mismatch': async (lab, uri) => {
    const nic = eth0(await guestView(host, uri, 'vm1'));
    assert.deepEqual([nic.address, nic.permaddr, nic.promisc], ['52:54:00:00:00:99', '52:54:00:00:00:11', false]);
    // Seed 001's dependency: vm1 answers exactly while its NIC is promiscuous.
    const ping = () =>
      host.run(['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', '192.0.2.11'], {
        netns: lab.state.client,
        okCodes: 'any',
      });
    await guestExec(host, uri, 'vm1', ['ip', 'link', 'set', 'eth0', 'promisc', 'on']);
    try {
      assert.equal((await ping()).code, 0, 'with the guest NIC promiscuous vm1 answers');
    } finally {
      await guestExec(host, uri, 'vm1', ['ip', 'link', 'set', 'eth0', 'promisc', 'off']);
    }
    assert.notEqual((await ping()).code, 0, 'and stops answering when it is not');
  },
  'vm-tap-detached': async (lab, uri) => {
    const [domain] = await listDomains(host, { uri });
    // libvirt still believes the tap is on br0; the kernel says it has no master.
    assert.equal(domain?.interfaces[0]?.sourceBridge, 'br0');
    const link = JSON.parse(
      (await host.run(['ip', '-j', 'link', 'show', 'vnet0'], { netns: lab.state.hypervisor })).stdout,
    ) as Array<{
      master?: string;
      flags: string[];
    }>;
    assert.equal(link[0]?.master, undefined);
    assert.ok(link[0]?.flags.includes('UP'));
  },
};

describe('vm lab (libvirt/QEMU guest)', { concurrency: 3, skip }, () => {
  test('boots vm1; libvirt, the guest agent and a guest capture see it; labDown leaves nothing', async () => {
    let hv = '';
    let instance = '';
    await withLab({ topology: 'vm', prefix: 'vm' }, async (lab) => {
      hv = lab.state.hypervisor;
      instance = lab.state.instance;
      const uri = libvirtUri(hv);
      for (const symptom of healthySymptoms(vm.targets[0]!)) {
        const r = await checkSymptom(host, vm, lab.state.client, symptom);
        assert.equal(r.present, false, `healthy vm1: ${symptom.kind}: ${r.detail}`);
      }

      const domains = await listDomains(host, { uri });
      assert.equal(domains.length, 1);
      const d = domains[0]!;
      assert.deepEqual([d.name, d.state, d.virtType, d.guestAgentChannel], ['vm1', 'running', 'qemu', true]);
      assert.deepEqual(d.interfaces, [
        {
          type: 'bridge',
          targetDev: 'vnet0',
          mac: '52:54:00:00:00:11',
          model: 'virtio',
          sourceBridge: 'br0',
          alias: 'net0',
        },
      ]);
      assert.equal(d.nova?.instanceUuid, d.uuid);
      assert.deepEqual(d.nova?.ports[0]?.ips, ['192.0.2.11']);
      // libvirt's tap: on br0, with the guest MAC's first byte set to 0xfe.
      const tap = JSON.parse(
        (await host.run(['ip', '-j', '-d', 'link', 'show', 'vnet0'], { netns: hv })).stdout,
      ) as Array<{
        master?: string;
        address: string;
        linkinfo?: { info_kind?: string };
      }>;
      assert.deepEqual(
        [tap[0]?.master, tap[0]?.address, tap[0]?.linkinfo?.info_kind],
        ['br0', 'fe:54:00:00:00:11', 'tun'],
      );

      // Like virsh, listDomains honours LIBVIRT_DEFAULT_URI when no URI is given.
      const saved = process.env['LIBVIRT_DEFAULT_URI'];
      process.env['LIBVIRT_DEFAULT_URI'] = uri;
      try {
        assert.deepEqual(
          (await listDomains(host)).map((x) => x.uuid),
          [d.uuid],
        );
      } finally {
        if (saved === undefined) delete process.env['LIBVIRT_DEFAULT_URI'];
        else process.env['LIBVIRT_DEFAULT_URI'] = saved;
      }

      const view = await guestView(host, uri, 'vm1');
      const nic = eth0(view);
      assert.equal(nic.address, '52:54:00:00:00:11');
      assert.ok(nic.addresses.some((a) => a.local === '192.0.2.11' && a.prefixlen === 24));
      assert.ok(nic.addresses.some((a) => a.local === '2001:db8::11'));
      assert.ok(view.routes.some((r) => r.dst === 'default' && r.gateway === '192.0.2.1'));
      assert.ok(
        view.neighbours.some((n) => n.dst === '192.0.2.100' && n.lladdr === '02:00:00:00:00:64'),
        `the guest learnt the client from the healthy probes: ${JSON.stringify(view.neighbours)}`,
      );

      const capture = startGuestCapture(host, uri, 'vm1', 'eth0', 'icmp', { maxLifetimeMs: 60_000 });
      await capture.ready;
      await host.run(['ping', '-n', '-q', '-c', '3', '-i', '0.2', '192.0.2.11'], { netns: lab.state.client });
      const pcap = await capture.stop();
      const dir = mkdtempSync(join(tmpdir(), 'hopdump-vm-'));
      try {
        writeFileSync(join(dir, 'guest.pcap'), pcap);
        const read = await hopdump(['read', join(dir, 'guest.pcap')]);
        assert.equal(read.code, 0, read.stderr);
        const requests = read.stdout
          .split('\n')
          .filter((l) => /192\.0\.2\.100 > 192\.0\.2\.11: ICMP echo request/.test(l));
        assert.equal(requests.length, 3, read.stdout);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const tmp = await guestExec(host, uri, 'vm1', ['ls', '/tmp']);
      assert.doesNotMatch(
        tmp.stdout.toString('utf8'),
        /hopdump-.*\.pcap/,
        'the capture file is removed from the guest',
      );
    });
    assert.deepEqual(leftoverNamespaces(instance), []);
    assert.equal(existsSync(libvirtDir(hv)), false, `${libvirtDir(hv)} removed`);
    assert.deepEqual(labProcesses(hv), [], 'no libvirtd or qemu of the lab is left');
  });

  for (const fault of FAULTS.filter((f) => f.topology === 'vm')) {
    test(`${fault.name}: breaks vm1 (${fault.symptom.kind}) and the collectors show it`, async () => {
      const seen = SEEN[fault.name];
      assert.ok(seen, `no expectation written for ${fault.name}`);
      await withLab({ topology: 'vm', fault: fault.name, prefix: 'vm' }, async (lab) => {
        const r = await checkSymptom(host, vm, lab.state.client, fault.symptom);
        assert.equal(r.present, true, `${fault.name} should break vm1: ${r.detail}`);
        await seen(lab, libvirtUri(lab.state.hypervisor));
      });
    });
  }
});
