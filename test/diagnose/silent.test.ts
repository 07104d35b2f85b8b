import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseTunFdinfo } from '../../src/collect/guests/qemu.js';
import { PathSchema, type Path } from '../../src/model/path.js';
import { ReportSchema, type Report } from '../../src/model/report.js';
import { hopdump, host, withLab, type RunningLab } from '../helpers/lab.js';

/**
 * Issue 16 §1: a guest whose address no interface holds and no neighbour
 * entry names (a silent or opaque guest) is still a target. The bridged lab's
 * guests are made silent by taking their addresses away (a namespace guest
 * that holds its address is not silent to hopdump: it sees the address).
 */

async function silence(lab: RunningLab, role: string): Promise<void> {
  await host.run(['ip', 'addr', 'flush', 'dev', 'eth0'], { netns: lab.ns(role) });
  // A default route without an address of its own, so that the guest's lack of routes is not the story.
  await host.run(['ip', 'route', 'replace', 'default', 'dev', 'eth0'], { netns: lab.ns(role) });
}

async function pathJson(
  lab: RunningLab,
  target: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Path> {
  const r = await hopdump(['path', '--netns', lab.state.hypervisor, '--target', target, '--json', ...extra], env);
  assert.equal(r.code, 0, r.stderr);
  return PathSchema.parse(JSON.parse(r.stdout));
}

async function diagnoseCli(lab: RunningLab, target: string): Promise<{ code: number; report: Report }> {
  const r = await hopdump([
    'diagnose',
    '--netns',
    lab.state.hypervisor,
    '--from',
    `netns:${lab.state.client}`,
    '--target',
    target,
    '--probe',
    'icmp',
    '--json',
    '--out',
    '-',
  ]);
  assert.ok(r.stdout.trim().startsWith('{'), `${r.code} ${r.stderr}`);
  return { code: r.code, report: ReportSchema.parse(JSON.parse(r.stdout)) };
}

const short = (s: string) => s.replace(/^hd-[a-z0-9]+-/, '');

describe('silent guests are targets', { concurrency: 2 }, () => {
  test('from the subnet (br0, both guests silent), from a lease file, by ARP and by NS; diagnose exits 1 localized past the bridge; outside every prefix exits 2', async () => {
    await withLab({ topology: 'bridged', prefix: 'sg' }, async (lab) => {
      await silence(lab, 'vm1');
      await silence(lab, 'vm2');
      await host.run(['ip', 'neigh', 'flush', 'all'], { netns: lab.state.hypervisor });

      // (a) resolved from the prefix br0 holds: the path ends at br0, both backends named with why.
      const a = await pathJson(lab, '192.0.2.11');
      assert.deepEqual([short(a.target.netns), a.target.ifname, a.target.address], ['hv', 'br0', '192.0.2.11']);
      assert.deepEqual(
        a.hops.map((h) => `${short(h.netns)}/${h.ifname}`),
        ['hv/eth0', 'hv/br0'],
      );
      assert.deepEqual(
        a.candidates?.map((c) => c.ifname),
        ['vnet0', 'vnet1'],
      );
      assert.match(
        a.candidates[0]!.why,
        /^port of br0; its veth peer hd-[a-z0-9]+-vm1\/eth0 \(52:54:00:00:00:11\) holds no address in 192\.0\.2\.0\/24$/,
      );
      assert.ok(
        a.notes.some((n) => /holds its prefix 192\.0\.2\.0\/24.*the path ends at br0/.test(n)),
        a.notes.join('\n'),
      );

      // (c) a libvirt lease (leaseshelper's status JSON) names the MAC: narrowed to vnet0, the guest NIC behind it.
      const root = mkdtempSync(join(tmpdir(), 'hopdump-sg-root-'));
      try {
        mkdirSync(join(root, 'var/lib/libvirt/dnsmasq'), { recursive: true });
        writeFileSync(
          join(root, 'var/lib/libvirt/dnsmasq/br0.status'),
          JSON.stringify(
            [
              {
                'ip-address': '192.0.2.11',
                'mac-address': '52:54:00:00:00:11',
                hostname: 'vm1',
                'expiry-time': 1999999999,
              },
            ],
            null,
            2,
          ),
        );
        const c = await pathJson(lab, '192.0.2.11', [], { ...process.env, HOPDUMP_HOST_ROOT: root });
        assert.deepEqual([short(c.target.netns), c.target.ifname], ['vm1', 'eth0']);
        assert.deepEqual(
          c.hops.map((h) => `${short(h.netns)}/${h.ifname}`),
          ['hv/eth0', 'hv/br0', 'hv/vnet0', 'vm1/eth0'],
        );
        assert.equal(c.candidates?.length, 1);
        assert.match(
          c.candidates[0]!.why,
          /DHCP lease 192\.0\.2\.11 for 52:54:00:00:00:11 \(vm1\) in \/var\/lib\/libvirt\/dnsmasq\/br0\.status/,
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }

      // (d) diagnose: exit 1 (a problem), not 2; the ARP probe is in the report; every candidate captured;
      // the loss is localized past the bridge.
      const d = await diagnoseCli(lab, '192.0.2.11');
      assert.equal(d.code, 1, JSON.stringify(d.report.notices));
      assert.equal(d.report.status, 'broken');
      assert.ok(
        d.report.notices.some((n) =>
          /^one ARP request for 192\.0\.2\.11 sent on hd-[a-z0-9]+-hv\/br0 from 192\.0\.2\.1 .*: no answer$/.test(n),
        ),
        d.report.notices.join('\n'),
      );
      assert.ok(
        d.report.notices.some((n) =>
          /^candidate hd-[a-z0-9]+-hv\/vnet1: [1-9]\d* packets for 192\.0\.2\.11 and 0 from it/.test(n),
        ),
        d.report.notices.join('\n'),
      );
      assert.deepEqual(
        d.report.path.candidates?.map((c) => c.ifname),
        ['vnet0', 'vnet1'],
      );
      const missing = d.report.loss?.firstMissingHop;
      assert.ok(missing, 'a loss segment');
      const at = d.report.path.hops.findIndex((h) => h.netns === missing.netns && h.ifname === missing.ifname);
      const bridge = d.report.path.hops.findIndex((h) => h.ifname === 'br0');
      assert.ok(at > bridge, `localized past br0, not at ${missing.netns}/${missing.ifname}`);
      assert.equal(d.report.causes[0]?.id, 'guest-arp-unresolved', JSON.stringify(d.report.causes));
      assert.ok(
        d.report.causes[0].evidence.some((e) =>
          /^followed candidate .*nothing in the window told the 2 candidates apart/.test(e),
        ),
        d.report.causes[0].evidence.join('\n'),
      );

      // (e) outside every prefix held in any collected namespace: "not found", exit 2.
      const e = await hopdump(['path', '--netns', lab.state.hypervisor, '--target', '198.51.100.7']);
      assert.equal(e.code, 2);
      assert.match(e.stderr, /target 198\.51\.100\.7 not found/);
      const e2 = await hopdump(['diagnose', '--netns', lab.state.hypervisor, '--target', '198.51.100.7', '--out', '-']);
      assert.equal(e2.code, 2);

      // The ARP probe of `path --resolve-arp`: vm1 answers for 192.0.2.11 by proxy ARP (the address is
      // routed to a device inside it, not held by any interface): the answer is learned on vnet0.
      const vm1 = lab.ns('vm1');
      await host.run(['ip', 'addr', 'add', '198.51.100.50/32', 'dev', 'eth0'], { netns: vm1 });
      await host.run(['ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { netns: vm1 });
      await host.run(['ip', 'link', 'set', 'p0', 'up'], { netns: vm1 });
      await host.run(['ip', 'route', 'add', '192.0.2.0/24', 'dev', 'eth0'], { netns: vm1 });
      await host.run(['ip', 'route', 'add', '192.0.2.11/32', 'dev', 'p0'], { netns: vm1 });
      await host.run(
        [
          'sysctl',
          '-qw',
          'net.ipv4.ip_forward=1',
          'net.ipv4.conf.eth0.proxy_arp=1',
          'net.ipv4.conf.all.rp_filter=0',
          'net.ipv4.conf.eth0.rp_filter=0',
        ],
        { netns: vm1 },
      );
      await host.run(['ip', 'neigh', 'flush', 'all'], { netns: lab.state.hypervisor });
      const without = await pathJson(lab, '192.0.2.11');
      assert.equal(without.target.ifname, 'br0', 'path sends nothing unless asked');
      const f = await pathJson(lab, '192.0.2.11', ['--resolve-arp']);
      assert.deepEqual([short(f.target.netns), f.target.ifname], ['vm1', 'eth0']);
      assert.ok(
        f.notes.some((n) =>
          /one ARP request for 192\.0\.2\.11 sent on .*answered by 52:54:00:00:00:11, learned by br0 on vnet0$/.test(n),
        ),
        f.notes.join('\n'),
      );

      // IPv6: the kernel's neighbour solicitation from br0, answered by proxy NDP in vm1.
      await host.run(['ip', '-6', 'addr', 'add', 'fe80::11/64', 'dev', 'eth0', 'nodad'], { netns: vm1 });
      await host.run(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.eth0.proxy_ndp=1'], {
        netns: vm1,
      });
      await host.run(['ip', '-6', 'neigh', 'add', 'proxy', '2001:db8::11', 'dev', 'eth0'], { netns: vm1 });
      await host.run(['ip', '-6', 'route', 'add', '2001:db8::/64', 'dev', 'eth0'], { netns: vm1 });
      await host.run(['ip', '-6', 'route', 'add', '2001:db8::11/128', 'dev', 'p0'], { netns: vm1 });
      await host.run(['ip', '-6', 'neigh', 'flush', 'all'], { netns: lab.state.hypervisor });
      const v6 = await pathJson(lab, '2001:db8::11');
      assert.equal(v6.target.ifname, 'br0');
      assert.ok(
        v6.notes.some((n) => n.includes('holds its prefix 2001:db8::/64')),
        v6.notes.join('\n'),
      );
      const f6 = await pathJson(lab, '2001:db8::11', ['--resolve-arp']);
      assert.deepEqual([short(f6.target.netns), f6.target.ifname], ['vm1', 'eth0']);
      assert.ok(
        f6.notes.some((n) =>
          /one neighbour solicitation for 2001:db8::11 sent by the kernel on .*br0.*answered by 52:54:00:00:00:11, learned by br0 on vnet0$/.test(
            n,
          ),
        ),
        f6.notes.join('\n'),
      );
    });
  });

  test('a plain QEMU guest (no libvirt, paused, no image) on br0: the candidate narrows to its tap, with the QEMU pid', async (t) => {
    if (!host.hasProgram('qemu-system-x86_64')) return t.skip('qemu-system-x86_64 not installed');
    await withLab({ topology: 'bridged', prefix: 'sg' }, async (lab) => {
      const hv = lab.state.hypervisor;
      const tap = 'tapsg0';
      // Run in the hypervisor namespace, so that lab down ends it.
      await host.daemon(
        [
          'qemu-system-x86_64',
          '-S',
          '-nodefaults',
          '-nographic',
          '-display',
          'none',
          '-netdev',
          `tap,id=n0,ifname=${tap},script=no,downscript=no`,
          '-device',
          'virtio-net-pci,netdev=n0,mac=52:54:00:00:00:13',
        ],
        { netns: hv },
      );
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        pid = readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .map(Number)
          .find((p) => {
            try {
              return (
                readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`ifname=${tap},`) &&
                readlinkSync(`/proc/${p}/exe`).includes('qemu-system')
              );
            } catch {
              return false;
            }
          });
        const up = await host.run(['ip', 'link', 'show', tap], { netns: hv, okCodes: 'any' });
        if (pid !== undefined && up.code !== 0) pid = undefined;
        if (pid === undefined) await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(pid, 'QEMU started with its tap');
      await host.run(['ip', 'link', 'set', tap, 'master', 'br0', 'up'], { netns: hv });

      // The kernel's fdinfo of QEMU's tun fd names the tap (what -netdev tap,fd=N is joined through).
      const tunFd = readdirSync(`/proc/${pid}/fd`).find(
        (fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/net/tun',
      );
      assert.ok(tunFd, 'QEMU holds /dev/net/tun');
      assert.equal(parseTunFdinfo(readFileSync(`/proc/${pid}/fdinfo/${tunFd}`, 'utf8')), tap);

      // 192.0.2.13: vm1 and vm2 hold other addresses of the prefix, the QEMU guest's is unknown.
      const b = await pathJson(lab, '192.0.2.13');
      assert.deepEqual([short(b.target.netns), b.target.ifname], ['hv', tap]);
      assert.deepEqual(
        b.hops.map((h) => `${h.ifname}:${h.role}`),
        ['eth0:uplink', 'br0:bridge', `${tap}:backend`],
      );
      assert.equal(b.candidates?.length, 1);
      assert.match(
        b.candidates[0]!.why,
        new RegExp(
          `QEMU pid ${pid} -netdev tap,id=n0,ifname=${tap},script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:13`,
        ),
      );

      // diagnose: the paused guest never answers ARP: exit 1, localized at its tap.
      const d = await diagnoseCli(lab, '192.0.2.13');
      assert.equal(d.code, 1);
      assert.equal(d.report.loss?.firstMissingHop?.ifname, tap);
      assert.equal(d.report.causes[0]?.id, 'guest-arp-unresolved', JSON.stringify(d.report.causes));
      assert.match(d.report.causes[0].evidence.join('\n'), new RegExp(`QEMU pid ${pid}`));
    });
  });
});
