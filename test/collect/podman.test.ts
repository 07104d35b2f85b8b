import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import {
  joinPodman,
  ociNetns,
  parseConmonArgv,
  parseNetavarkNetwork,
  readNetavarkNetworks,
  readPodman,
  type PodmanRead,
} from '../../src/collect/podman.js';
import type { DaemonProcess } from '../../src/collect/daemons.js';
import { DockerStateSchema } from '../../src/model/docker.js';
import type { Interface, Namespace } from '../../src/model/topology.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/podman', import.meta.url));

function iface(ifindex: number, ifname: string, kind: Interface['kind'], extra: Partial<Interface> = {}): Interface {
  return {
    ifindex,
    ifname,
    kind,
    mtu: 1500,
    adminUp: true,
    operstate: 'UP',
    carrier: true,
    flags: [],
    promisc: false,
    addresses: [],
    ...extra,
  };
}
const ns = (id: string, name: string | null, interfaces: Interface[]): Namespace => ({
  id,
  name,
  isRoot: id === 'host',
  collected: true,
  interfaces,
  bridges: [],
  routes: [],
  neighbours: [],
});

describe('netavark network files', () => {
  test("a bridge network: its bridge is network_interface; a macvlan network's parent too; the built-in default podman0 added", () => {
    const warnings: string[] = [];
    const nets = readNetavarkNetworks(`${fixtures}/networks`, warnings);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      nets.map((n) => [
        n.name,
        n.driver,
        n.bridge ?? '-',
        n.parent ?? '-',
        n.mode ?? '-',
        n.subnets.map((s) => `${s.subnet} gw ${s.gateway}`).join(),
      ]),
      [
        ['podman', 'bridge', 'podman0', '-', '-', '10.88.0.0/16 gw 10.88.0.1'],
        ['icnet', 'bridge', 'podman1', '-', '-', '192.0.2.0/26 gw 192.0.2.1'],
        ['lan', 'macvlan', '-', 'eno1', 'bridge', '198.51.100.0/24 gw 198.51.100.1'],
      ],
    );
    // A podman.json written there (the default network changed) replaces the built-in one.
    const changed = parseNetavarkNetwork(
      '{"name":"podman","id":"2f25","driver":"bridge","network_interface":"podman0","subnets":[{"subnet":"203.0.113.0/24"}]}',
    )!;
    assert.deepEqual(changed.subnets, [{ subnet: '203.0.113.0/24' }]);
    assert.deepEqual(
      readNetavarkNetworks('/nonexistent', warnings).map((n) => n.name),
      ['podman'],
    );
  });

  test('a broken file is a warning, the others are still read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-podman-'));
    try {
      cpSync(`${fixtures}/networks/icnet.json`, `${dir}/icnet.json`);
      writeFileSync(`${dir}/broken.json`, '{"name":');
      const warnings: string[] = [];
      assert.deepEqual(
        readNetavarkNetworks(dir, warnings).map((n) => n.name),
        ['podman', 'icnet'],
      );
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^Podman network .*broken\.json could not be read: /);
      assert.equal(parseNetavarkNetwork('{"id":"x"}'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("conmon's command line", () => {
  test("podman's conmon: the container's ID, name, bundle, pidfile and podman's --network-config-dir from the exit command", () => {
    const argv = readFileSync(`${fixtures}/conmon.argv`, 'utf8').split('\0').filter(Boolean);
    const c = parseConmonArgv(argv)!;
    assert.equal(c.id, '8213cb3bb500e3402d5f026057feb96499eb48649c153052a3aab17d303a9d98');
    assert.equal(c.name, 'icweb');
    assert.equal(c.bundle, `/srv/pm/root/overlay-containers/${c.id}/userdata`);
    assert.equal(c.pidfile, `/srv/pm/run/overlay-containers/${c.id}/userdata/pidfile`);
    assert.equal(c.networkConfigDir, '/srv/pm/netcfg');
  });

  test("CRI-O's conmon (no podman exit command) is not Podman's; without --network-config-dir the default applies", () => {
    assert.equal(parseConmonArgv(['/usr/bin/conmon', '-c', 'abc', '-n', 'k8s_x', '-b', '/run/x']), undefined);
    const c = parseConmonArgv([
      '/usr/bin/conmon',
      '-c',
      'abcdef0123456789',
      '-b',
      '/b',
      '--exit-command',
      '/usr/bin/podman',
      '--exit-command-arg',
      'container',
    ])!;
    assert.deepEqual([c.name, c.networkConfigDir], ['abcdef012345', undefined]);
  });

  test("the OCI config's network namespace: a path (podman's /run/netns/netns-UUID), a new one, or none (--network host)", () => {
    assert.deepEqual(
      ociNetns('{"linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/netns-11280d8d"}]}}'),
      { path: '/run/netns/netns-11280d8d' },
    );
    assert.deepEqual(ociNetns('{"linux":{"namespaces":[{"type":"network"}]}}'), {});
    assert.equal(ociNetns('{"linux":{"namespaces":[{"type":"pid"}]}}'), undefined);
  });
});

test("joinPodman: the container's NIC, its veth peer and the bridge that names the network", () => {
  const warnings: string[] = [];
  const networks = readNetavarkNetworks(`${fixtures}/networks`, warnings);
  const read: PodmanRead = {
    state: {
      endpoint: 'podman',
      networks,
      containers: [
        {
          id: 'a1',
          name: 'icweb',
          image: '',
          state: 'running',
          pid: 4321,
          networkMode: 'bridge',
          endpoints: [],
          ports: [],
        },
        {
          id: 'b2',
          name: 'elsewhere',
          image: '',
          state: 'running',
          pid: 99,
          networkMode: 'bridge',
          endpoints: [],
          ports: [],
        },
      ],
    },
    netnsPaths: new Map([
      ['a1', '/run/netns/netns-11280d8d'],
      ['b2', '/run/netns/netns-not-collected'],
    ]),
  };
  const namespaces = [
    ns('host', null, [
      iface(1, 'lo', 'loopback'),
      iface(5, 'podman1', 'bridge'),
      iface(6, 'veth0', 'veth', { master: 'podman1', peer: { netns: 'netns-11280d8d', ifindex: 2 } }),
    ]),
    ns('netns-11280d8d', 'netns-11280d8d', [
      iface(1, 'lo', 'loopback'),
      iface(2, 'eth0', 'veth', {
        address: '4A:0E:5B:7C:11:02',
        peer: { netns: null, ifindex: 6 },
        addresses: [
          { family: 'inet6', local: 'fe80::480e:5bff:fe7c:1102', prefixlen: 64, scope: 'link' },
          { family: 'inet', local: '192.0.2.4', prefixlen: 26, scope: 'global' },
        ],
      }),
    ]),
  ];
  joinPodman(read, namespaces);
  DockerStateSchema.parse(read.state);
  assert.deepEqual(read.state.containers[0]!.endpoints, [
    {
      network: 'icnet',
      networkId: '83975713bc045b1854cef8271bff48c622be6c43cca95cf4208b44e5f02b0adb',
      ipAddress: '192.0.2.4',
      prefixLen: 26,
      macAddress: '4a:0e:5b:7c:11:02',
      gateway: '192.0.2.1',
      netns: 'netns-11280d8d',
      ifname: 'eth0',
      hostVeth: 'veth0',
      bridge: 'podman1',
    },
  ]);
  assert.deepEqual(read.state.containers[1]!.endpoints, []);
});

test('readPodman: with --netns only the conmons running in that namespace; the network directory each names', () => {
  const argv = readFileSync(`${fixtures}/conmon.argv`, 'utf8')
    .split('\0')
    .filter(Boolean)
    .map((a) => a.replace('/srv/pm/netcfg', `${fixtures}/networks`));
  const conmon = (pid: number, netns: string, name: string): DaemonProcess => ({
    pid,
    program: 'conmon',
    argv: argv.map((a) => (a === 'icweb' ? name : a)),
    netns,
    sameMounts: true,
    env: {},
  });
  const scan = { processes: [conmon(10, 'net:[1]', 'here'), conmon(11, 'net:[2]', 'there')] };
  const warnings: string[] = [];
  const all = readPodman(scan, warnings, { defaultDir: '/nonexistent' })!;
  assert.deepEqual(
    all.state.containers.map((c) => c.name),
    ['here', 'there'],
  );
  assert.deepEqual(
    all.state.networks.map((n) => n.name),
    ['podman', 'icnet', 'lan'],
  );
  assert.equal(all.state.endpoint, `netavark networks in ${fixtures}/networks`);
  const one = readPodman(scan, warnings, { netnsIdentity: 'net:[2]', defaultDir: '/nonexistent' })!;
  assert.deepEqual(
    one.state.containers.map((c) => c.name),
    ['there'],
  );
  // No conmon there, and the host's own podman config is not that namespace's.
  assert.equal(readPodman(scan, warnings, { netnsIdentity: 'net:[3]', defaultDir: `${fixtures}/networks` }), undefined);
  // No conmon and no network directory: no podman here.
  assert.equal(readPodman({ processes: [] }, warnings, { defaultDir: '/nonexistent' }), undefined);
  assert.deepEqual(
    readPodman({ processes: [] }, warnings, { defaultDir: `${fixtures}/networks` })!.state.containers,
    [],
  );
  assert.deepEqual(warnings, []);
});
