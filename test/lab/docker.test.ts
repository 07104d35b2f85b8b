import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { dockerConnection, readDocker } from '../../src/collect/docker.js';
import { docker, dockerDir } from '../../src/lab/docker.js';
import { labDaemonDir } from '../../src/lab/names.js';
import type { LabBuilder } from '../../src/lab/types.js';
import { TopologySchema } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { renderTopology } from '../../src/report/topology-text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { hopdump, host, ifOf, nsOf, withLab } from '../helpers/lab.js';

/** Enough of a LabBuilder for the lab's docker() helper: the namespace, the host, the daemons' directory, no variant. */
const builder = (hv: string) =>
  ({ ns: () => hv, host, daemonDir: labDaemonDir(), real: (_role: string, s: string) => s }) as unknown as LabBuilder;

describe('docker lab (a real dockerd)', () => {
  test('Engine API discovery, container targets, the DNAT step, and nothing left after lab down', async () => {
    let hv = '';
    await withLab({ topology: 'docker', prefix: 'dk' }, async (lab) => {
      hv = lab.state.hypervisor;
      const b = builder(hv);
      // A user-defined network with a second container, and a container that is not running.
      await docker(b, 'hv', ['network', 'create', '--subnet', '192.0.2.32/27', 'net1']);
      await docker(b, 'hv', [
        'run',
        '-d',
        '--name',
        'ct2',
        '--network',
        'net1',
        'hopdump/busybox',
        'sleep',
        '2147483647',
      ]);
      await docker(b, 'hv', ['create', '--name', 'ct3', 'hopdump/busybox', 'true']);
      await docker(b, 'hv', [
        'run',
        '-d',
        '--name',
        'side',
        '--network',
        'container:ct1',
        'hopdump/busybox',
        'sleep',
        '2147483647',
      ]);

      const t = await lab.discover();
      TopologySchema.parse(t);
      assert.equal(t.docker?.endpoint, `unix://${dockerDir(hv)}/docker.sock`, "the lab's own dockerd is asked");
      const by = (name: string) => t.docker!.containers.find((c) => c.name === name)!;
      const ct1 = by('ct1');
      assert.equal(ct1.state, 'running');
      assert.ok(ct1.pid > 0);
      const ep = ct1.endpoints[0]!;
      assert.deepEqual(
        [ep.network, ep.ipAddress, ep.macAddress, ep.bridge],
        ['bridge', '203.0.113.2', '02:42:cb:00:71:02', 'docker0'],
      );
      // Joined to its namespace (the container's PID's), and its eth0 to the host veth by ifindex/iflink.
      assert.match(ep.netns!, /^pid:\d+$/);
      const veth = ifOf(t, hv, ep.hostVeth!);
      assert.equal(veth.master, 'docker0');
      assert.equal(veth.peer?.ifindex, ifOf(t, ep.netns!, 'eth0').ifindex);
      assert.deepEqual(ct1.ports, [{ privatePort: 9200, publicPort: 9200, hostIp: '198.51.100.1', type: 'tcp' }]);
      const net1 = t.docker.networks.find((n) => n.name === 'net1')!;
      assert.equal(net1.bridge, `br-${net1.id.slice(0, 12)}`);
      assert.deepEqual(
        net1.subnets.map((s) => s.subnet),
        ['192.0.2.32/27'],
      );
      assert.equal(by('ct2').endpoints[0]!.bridge, net1.bridge);
      assert.equal(by('ct2').endpoints[0]!.hostVeth !== undefined, true);
      assert.deepEqual([by('ct3').state, by('ct3').pid], ['created', 0]);
      // Docker's own chains are part of the firewall evidence.
      const chains = nsOf(t, hv).firewall!.iptables.map((c) => `${c.table}/${c.chain}`);
      for (const c of ['filter/DOCKER', 'filter/DOCKER-USER', 'filter/DOCKER-ISOLATION-STAGE-1', 'nat/DOCKER'])
        assert.ok(chains.includes(c), c);
      const text = renderTopology(t);
      for (const line of text.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
      assert.match(text, /netns pid:\d+ \(container ct1\)/);
      assert.match(text, /ports: 198\.51\.100\.1:9200->9200\/tcp/);

      // --target by name, by ID prefix, and CONTAINER:PORT with its DNAT step.
      for (const q of ['ct1', ct1.id.slice(0, 8)]) {
        const p = findPath(t, q);
        assert.equal(p.target.type, 'container');
        assert.deepEqual(
          p.hops.map((h) => `${h.ifname}:${h.role}`),
          ['eth0:uplink', 'docker0:router', `${ep.hostVeth}:backend`, 'eth0:guest-nic'],
        );
        assert.equal(p.target.container?.name, 'ct1');
      }
      const pub = findPath(t, 'ct1:9200');
      assert.deepEqual(
        { ...pub.target.published, dnat: undefined },
        { address: '198.51.100.1', port: 9200, containerPort: 9200, proto: 'tcp', dnat: undefined },
      );
      assert.match(pub.target.published!.dnat!, /--dport 9200 -j DNAT --to-destination 203\.0\.113\.2:9200/);
      assert.ok(pub.notes.some((n) => n.startsWith('DNAT step')));
      assert.equal(findPath(t, 'ct2').target.address?.startsWith('192.0.2.'), true);
      // --network container:ct1 lives in ct1's namespace.
      const side = findPath(t, 'side');
      assert.equal(side.target.netns, ep.netns);
      assert.ok(side.notes.some((n) => n.startsWith('container side shares the network namespace of ct1')));

      // Clear errors for what cannot be followed.
      const cli = (target: string) => hopdump(['path', '--netns', hv, '--target', target]);
      const exited = await cli('ct3');
      assert.equal(exited.code, 2);
      assert.match(exited.stderr, /container ct3 is created: it has no network namespace to follow/);
      const noPort = await cli('ct1:80');
      assert.equal(noPort.code, 2);
      assert.match(noPort.stderr, /container ct1 publishes no port 80.*198\.51\.100\.1:9200->9200\/tcp/);
      assert.equal(noPort.stderr.trim().split('\n').length, 1, 'one line, no stack trace');

      // DOCKER_HOST is honoured as the docker CLI does (here it points at the lab's dockerd).
      const saved = process.env['DOCKER_HOST'];
      process.env['DOCKER_HOST'] = `unix://${dockerDir(hv)}/docker.sock`;
      try {
        const conn = dockerConnection(undefined)!;
        assert.equal(conn.endpoint, process.env['DOCKER_HOST']);
        assert.ok((await readDocker(conn)).containers.some((c) => c.name === 'ct1'));
      } finally {
        if (saved === undefined) delete process.env['DOCKER_HOST'];
        else process.env['DOCKER_HOST'] = saved;
      }

      // diagnose CONTAINER:PORT from outside: the probe goes to the published address, and the DNAT shows.
      const { report } = await diagnoseLab(lab, 'ct1:9200');
      assert.equal(report.status, 'ok', JSON.stringify(report.causes));
      assert.deepEqual(
        report.probes.map((p) => `${p.kind}:${p.port}@${p.address}`),
        ['tcp:9200@198.51.100.1'],
      );
      assert.ok(report.traces.some((tr) => tr.changes.some((c) => c.includes('NAT-ed to 203.0.113.2:9200'))));
    });
    // lab down: dockerd, containerd, shims and the containers are gone, and so are the mounts and the directory.
    assert.equal(existsSync(dockerDir(hv)), false, 'the private Docker directory is removed');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dockerDir(hv)), 'no mount left under it');
    const ps = await host.run(['ps', '-eo', 'args'], {});
    assert.ok(!ps.stdout.includes(dockerDir(hv)), 'no dockerd/containerd/shim of the lab left');
  });
});
