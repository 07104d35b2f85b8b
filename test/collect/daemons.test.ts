import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { optionValues, pickSocket, scanDaemons, netnsIdentity, type DaemonProcess } from '../../src/collect/daemons.js';
import { dockerConnection, dockerContextHost, dockerdSockets, podmanSockets } from '../../src/collect/docker.js';
import { libvirtConnection, libvirtdSocket } from '../../src/collect/domains.js';
import { isSessionUri } from '../../src/collect/endpoints.js';
import { ovsdbFiles, ovsdbSockets } from '../../src/collect/ovs.js';

/**
 * Infrastructure found where it runs (issue 16, section 2): the command lines
 * of real daemons (as `ps` shows them on Debian, in Kolla's containers, under
 * systemd) and the docker CLI's own files. Root-free.
 */

/** Debian's ovs-ctl starts these (Open vSwitch 3.1). */
const DEBIAN_OVSDB = [
  'ovsdb-server',
  '/etc/openvswitch/conf.db',
  '-vconsole:emer',
  '-vsyslog:err',
  '-vfile:info',
  '--remote=punix:/var/run/openvswitch/db.sock',
  '--private-key=db:Open_vSwitch,SSL,private_key',
  '--certificate=db:Open_vSwitch,SSL,certificate',
  '--bootstrap-ca-cert=db:Open_vSwitch,SSL,ca_cert',
  '--no-chdir',
  '--log-file=/var/log/openvswitch/ovsdb-server.log',
  '--pidfile=/var/run/openvswitch/ovsdb-server.pid',
  '--detach',
];
/** Kolla-Ansible's openvswitch_db container. */
const KOLLA_OVSDB = [
  'ovsdb-server',
  '/var/lib/openvswitch/conf.db',
  '-vconsole:emer',
  '-vsyslog:err',
  '-vfile:info',
  '--remote=punix:/var/run/openvswitch/db.sock',
  '--remote=ptcp:6640:127.0.0.1',
  '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
  '--log-file=/var/log/kolla/openvswitch/ovsdb-server.log',
  '--pidfile',
];

test('ovsdb-server: its unix sockets (--remote=punix:) and database files, as Debian and Kolla start it', () => {
  assert.deepEqual(ovsdbSockets(DEBIAN_OVSDB), ['/var/run/openvswitch/db.sock']);
  assert.deepEqual(ovsdbFiles(DEBIAN_OVSDB), ['/etc/openvswitch/conf.db']);
  assert.deepEqual(
    ovsdbSockets(KOLLA_OVSDB),
    ['/var/run/openvswitch/db.sock'],
    'ptcp: and db: remotes are not sockets',
  );
  assert.deepEqual(ovsdbFiles(KOLLA_OVSDB), ['/var/lib/openvswitch/conf.db']);
  assert.deepEqual(
    ovsdbSockets(['ovsdb-server', '--remote', 'punix:/x/db.sock', 'a.db']),
    ['/x/db.sock'],
    'the value as the next argument',
  );
  assert.deepEqual(ovsdbFiles(['ovsdb-server', '--remote', 'punix:/x/db.sock', 'a.db']), ['a.db']);
});

test('dockerd: -H/--host unix:// sockets, fd:// (systemd socket), daemon.json hosts, the default', () => {
  assert.deepEqual(
    dockerdSockets(['dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock'], () => undefined),
    ['/var/run/docker.sock'],
  );
  assert.deepEqual(
    dockerdSockets(['dockerd', '-H', 'unix:///srv/d/docker.sock', '-H', 'tcp://0.0.0.0:2375'], () => undefined),
    ['/srv/d/docker.sock'],
  );
  assert.deepEqual(
    dockerdSockets(['dockerd', '--host=unix:///a.sock', '-Hunix:///b.sock'], () => undefined),
    ['/a.sock', '/b.sock'],
  );
  const config = (p: string) =>
    p === '/etc/x/daemon.json' ? '{"hosts": ["unix:///srv/from-config.sock"], "bip": "192.0.2.1/24"}' : undefined;
  assert.deepEqual(dockerdSockets(['dockerd', '--config-file=/etc/x/daemon.json'], config), ['/srv/from-config.sock']);
  assert.deepEqual(
    dockerdSockets(['dockerd'], () => undefined),
    ['/var/run/docker.sock'],
  );
  assert.deepEqual(podmanSockets(['podman', 'system', 'service', '--time=0']), ['/run/podman/podman.sock']);
  assert.deepEqual(podmanSockets(['podman', '--log-level=info', 'system', 'service', 'unix:///tmp/p.sock']), [
    '/tmp/p.sock',
  ]);
});

test('libvirtd/virtqemud: the socket in unix_sock_dir of its configuration, else /run/libvirt', () => {
  const conf = (p: string) =>
    p === '/srv/lv/libvirtd.conf' ? '# comment\nunix_sock_dir = "/srv/lv/sock"\nauth_unix_rw = "none"\n' : undefined;
  assert.equal(
    libvirtdSocket(['libvirtd', '--config', '/srv/lv/libvirtd.conf'], 'libvirtd', conf),
    '/srv/lv/sock/libvirt-sock',
  );
  assert.equal(
    libvirtdSocket(['libvirtd', '--timeout', '120'], 'libvirtd', () => '#unix_sock_dir = "/x"\n'),
    '/run/libvirt/libvirt-sock',
    'a commented line is not a setting',
  );
  assert.equal(
    libvirtdSocket(['virtqemud', '--timeout', '120'], 'virtqemud', () => undefined),
    '/run/libvirt/virtqemud-sock',
  );
  assert.ok(isSessionUri('qemu:///session'));
  assert.ok(isSessionUri('qemu+unix:///session?socket=/x'));
  assert.ok(!isSessionUri('qemu:///system'));
  assert.ok(!isSessionUri('qemu+ssh://root@hv1/system'));
});

test('options: --name=V, --name V, -nV, every occurrence', () => {
  assert.deepEqual(optionValues(['p', '-H', 'a', '--host=b', '-Hc', '--hostx=d'], ['-H', '--host']), ['a', 'b', 'c']);
});

test('the current docker context: DOCKER_CONTEXT, else config.json currentContext, its meta.json endpoint', () => {
  const dir = mkdtempSync(`${tmpdir()}/hopdump-docker-config-`);
  try {
    const meta = (name: string, host: string) => {
      const d = `${dir}/contexts/meta/${createHash('sha256').update(name).digest('hex')}`;
      mkdirSync(d, { recursive: true });
      writeFileSync(
        `${d}/meta.json`,
        JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
      );
    };
    meta('rootless', 'unix:///run/user/1000/docker.sock');
    meta('remote', 'ssh://admin@hv1');
    writeFileSync(`${dir}/config.json`, JSON.stringify({ auths: {}, currentContext: 'rootless' }));
    assert.deepEqual(dockerContextHost({ DOCKER_CONFIG: dir }, '/nonexistent'), {
      context: 'rootless',
      host: 'unix:///run/user/1000/docker.sock',
    });
    assert.deepEqual(dockerContextHost({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'remote' }, '/nonexistent'), {
      context: 'remote',
      host: 'ssh://admin@hv1',
    });
    assert.equal(
      dockerContextHost({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'default' }, '/nonexistent'),
      undefined,
      'the default context is the default host',
    );
    assert.equal(dockerContextHost({}, dir), undefined, 'no ~/.docker/config.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a socket counts for the namespace its daemon runs in; an explicit variable always; an unseen daemon only for the host', () => {
  const d = (netns: string | undefined): DaemonProcess => ({
    pid: 1,
    program: 'dockerd',
    argv: [],
    netns,
    sameMounts: true,
    env: {},
  });
  const cands = [
    { socket: '/default', owner: d('net:[1]') },
    { socket: '/found', owner: d('net:[2]') },
  ];
  assert.equal(pickSocket(cands, 'net:[2]', false)?.socket, '/found');
  assert.equal(pickSocket(cands, 'net:[1]', true)?.socket, '/default');
  assert.equal(pickSocket(cands, 'net:[3]', true), undefined);
  assert.equal(pickSocket([{ socket: '/env', explicit: true }, ...cands], 'net:[2]', false)?.socket, '/env');
  assert.equal(pickSocket([{ socket: '/unseen' }], 'net:[2]', false), undefined);
  assert.equal(pickSocket([{ socket: '/unseen' }], 'net:[2]', true)?.socket, '/unseen');
});

/**
 * A process named dockerd (a copy of sh, so /proc/PID/comm says dockerd) with
 * `-H unix://SOCKET` on its command line, and a socket listening there: found
 * by the /proc scan, in hopdump's own network namespace, and chosen as the host's Docker.
 */
test('a dockerd found by its process and its -H unix:// argument', async (t) => {
  if (process.env['DOCKER_HOST'] || process.env['DOCKER_CONTEXT']) return t.skip('DOCKER_HOST/DOCKER_CONTEXT set');
  const dir = mkdtempSync(`${tmpdir()}/hopdump-dockerd-`);
  const socket = `${dir}/engine.sock`;
  let server: Server | undefined;
  const child = (() => {
    copyFileSync('/bin/sh', `${dir}/dockerd`);
    return spawn(`${dir}/dockerd`, ['-c', 'sleep 60; :', '-H', `unix://${socket}`], { stdio: 'ignore' });
  })();
  try {
    await new Promise<void>((res, rej) => {
      server = createServer();
      server.once('error', rej);
      server.listen(socket, () => res());
    });
    assert.ok(child.pid, 'started');
    let found: DaemonProcess | undefined;
    for (let i = 0; i < 50 && !found; i++) {
      found = scanDaemons().processes.find((p) => p.pid === child.pid);
      if (!found) await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(found, 'the scan finds the process by its comm');
    assert.equal(found.program, 'dockerd');
    assert.equal(found.netns, netnsIdentity(undefined), "hopdump's own network namespace");
    const conn = dockerConnection(undefined, { processes: [found] });
    // The default socket, where it exists on this machine, comes first (the docker CLI's order).
    if (conn?.source !== 'default socket') {
      assert.equal(conn?.endpoint, `unix://${socket}`);
      assert.equal(conn?.source, `dockerd pid ${child.pid}`);
    }
    assert.equal(
      dockerConnection('pid:1', { processes: [{ ...found, netns: 'net:[0]' }] }),
      undefined,
      'not for another namespace',
    );
  } finally {
    child.kill('SIGKILL');
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LIBVIRT_DEFAULT_URI is used as it is, except a session URI as root (virsh would start a session daemon)', () => {
  const saved = process.env['LIBVIRT_DEFAULT_URI'];
  try {
    process.env['LIBVIRT_DEFAULT_URI'] = 'qemu+ssh://root@hv1/system';
    assert.deepEqual(libvirtConnection(undefined, { processes: [] }), {
      uri: 'qemu+ssh://root@hv1/system',
      source: 'LIBVIRT_DEFAULT_URI',
    });
    process.env['LIBVIRT_DEFAULT_URI'] = 'qemu:///session';
    const conn = libvirtConnection(undefined, { processes: [] });
    if (process.getuid?.() === 0) assert.notEqual(conn?.uri, 'qemu:///session');
    else assert.equal(conn?.uri, 'qemu:///session');
  } finally {
    if (saved === undefined) delete process.env['LIBVIRT_DEFAULT_URI'];
    else process.env['LIBVIRT_DEFAULT_URI'] = saved;
  }
});
