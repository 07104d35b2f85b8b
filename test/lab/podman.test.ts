import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TopologySchema } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { renderTopology } from '../../src/report/topology-text.js';
import { hopdump, host, ifOf, withLab } from '../helpers/lab.js';

/**
 * A real podman (Debian's 4.3, netavark) run as root inside the lab's
 * hypervisor namespace, with every directory of its own (--root, --runroot,
 * --tmpdir, --network-config-dir) in a temporary directory of the test's
 * choosing: hopdump finds the network files through the container's conmon.
 * The container runs a busybox rootfs (--rootfs), so no image or registry.
 */
const podmanAvailable = existsSync('/usr/bin/podman') && existsSync('/usr/lib/podman/netavark');

test(
  'podman: a netavark network and its container joined to the bridge, --target by name, nothing left',
  { skip: !podmanAvailable && 'podman/netavark not installed (make deps)' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-ic-podman-'));
    // netavark keeps its IPAM database in a fixed directory of its own (rootful: /run/containers/networks): removed after the
    // test when the test made it, so that the machine is left as it was found.
    const NETAVARK_RUN = '/run/containers';
    const netavarkRunExisted = existsSync(NETAVARK_RUN);
    let hv = '';
    const podman = (args: string[], okCodes: number[] | 'any' = [0]) =>
      host.run(
        [
          'nsenter',
          `--net=/run/netns/${hv}`,
          'podman',
          '--root',
          `${dir}/root`,
          '--runroot',
          `${dir}/run`,
          '--tmpdir',
          `${dir}/tmp`,
          '--network-config-dir',
          `${dir}/networks`,
          '--cgroup-manager',
          'cgroupfs',
          '--events-backend',
          'file',
          ...args,
        ],
        { timeoutMs: 60_000, okCodes },
      );
    try {
      const rootfs = `${dir}/rootfs`;
      for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(`${rootfs}/${d}`, { recursive: true });
      copyFileSync(
        ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))!,
        `${rootfs}/bin/busybox`,
      );
      for (const a of ['sh', 'sleep']) symlinkSync('busybox', `${rootfs}/bin/${a}`);
      writeFileSync(`${rootfs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\n');
      await withLab({ topology: 'bridged', prefix: 'ic' }, async (lab) => {
        hv = lab.state.hypervisor;
        try {
          // --disable-dns: no aardvark-dns daemon to outlive the test.
          await podman([
            'network',
            'create',
            '--disable-dns',
            '--subnet',
            '203.0.113.192/27',
            '--gateway',
            '203.0.113.193',
            'icnet',
          ]);
          const net = JSON.parse(readFileSync(`${dir}/networks/icnet.json`, 'utf8')) as {
            network_interface: string;
            id: string;
          };
          // This machine's hard RLIMIT_NOFILE is below podman's default for containers: runc would refuse it.
          const nofile = (await host.run(['sh', '-c', 'ulimit -Hn'])).stdout.trim();
          await podman([
            'run',
            '-d',
            '--name',
            'icweb',
            '--network',
            'icnet',
            '--ulimit',
            `nofile=${nofile}:${nofile}`,
            '--ulimit',
            'nproc=4096:4096',
            '--rootfs',
            rootfs,
            '/bin/sleep',
            '2147483647',
          ]);

          const t = await lab.discover();
          TopologySchema.parse(t);
          assert.ok(t.podman, `no podman in the model; warnings: ${t.warnings.join('; ')}`);
          const icnet = t.podman.networks.find((n) => n.name === 'icnet')!;
          assert.deepEqual(
            [icnet.driver, icnet.bridge, icnet.id, icnet.subnets],
            ['bridge', net.network_interface, net.id, [{ subnet: '203.0.113.192/27', gateway: '203.0.113.193' }]],
          );
          assert.ok(
            t.podman.networks.some((n) => n.name === 'podman' && n.bridge === 'podman0'),
            'the built-in default network',
          );
          const ct = t.podman.containers.find((c) => c.name === 'icweb')!;
          assert.equal(ct.state, 'running');
          assert.ok(ct.pid > 0);
          assert.equal(ct.endpoints.length, 1);
          const ep = ct.endpoints[0]!;
          assert.equal(ep.network, 'icnet');
          assert.equal(ep.bridge, net.network_interface);
          assert.match(ep.ipAddress ?? '', /^203\.0\.113\.(19[4-9]|2[0-2]\d)$/);
          assert.equal(ep.prefixLen, 27);
          // The endpoint is the container's own NIC, and its veth peer is a port of the network's bridge.
          const nic = ifOf(t, ep.netns!, ep.ifname!);
          assert.equal(nic.address, ep.macAddress);
          const veth = ifOf(t, hv, ep.hostVeth!);
          assert.equal(veth.master, net.network_interface);

          const text = renderTopology(t);
          for (const line of text.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
          assert.match(
            text,
            new RegExp(`podman networks: .*icnet bridge ${net.network_interface} 203\\.0\\.113\\.192/27`),
          );
          assert.match(text, /\(container icweb\)/);
          assert.match(text, new RegExp(`icweb ${ct.id.slice(0, 12)} running pid \\d+ network bridge`));

          const path = findPath(t, 'icweb');
          assert.equal(path.target.type, 'container');
          assert.deepEqual(
            [path.target.netns, path.target.ifname, path.target.address],
            [ep.netns, ep.ifname, ep.ipAddress],
          );
          assert.ok(
            path.hops.some((h) => h.ifname === net.network_interface),
            path.hops.map((h) => h.ifname).join(' '),
          );
          assert.ok(path.hops.some((h) => h.ifname === ep.hostVeth));

          // The CLI, as an operator runs it: discover's text and path --target NAME.
          const disc = await hopdump(['discover', '--netns', hv]);
          assert.equal(disc.code, 0, disc.stderr);
          assert.match(disc.stdout, /podman containers \(netavark networks in .*\/networks\):/);
          assert.match(
            disc.stdout,
            new RegExp(
              `endpoints: icnet ${ep.ipAddress!.replace(/\./g, '\\.')}/27 ${ep.macAddress} =\\s+${ep.netns}/eth0 ⇄ ${ep.hostVeth} on ${net.network_interface}`,
            ),
          );
          const cli = await hopdump(['path', '--netns', hv, '--target', 'icweb']);
          assert.equal(cli.code, 0, cli.stderr);
          assert.match(
            cli.stdout,
            new RegExp(
              `container icweb \\(${ct.id.slice(0, 12)}\\) eth0 ${ep.ipAddress!.replace(/\./g, '\\.')} on network icnet; host side ${ep.hostVeth} on ${net.network_interface}`,
            ),
          );
        } finally {
          await podman(['rm', '-f', '-t', '0', 'icweb'], 'any');
          await podman(['network', 'rm', '-f', 'icnet'], 'any');
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (!netavarkRunExisted) rmSync(NETAVARK_RUN, { recursive: true, force: true });
    }
    // podman rm removed the container's namespace (netns-UUID); lab down took the lab's.
    const lab = hv.slice(0, -'hv'.length);
    assert.deepEqual(
      (await host.listNetns()).filter((n) => n.startsWith(lab)),
      [],
    );
  },
);
