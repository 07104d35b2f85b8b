import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { EXPECT, faultAddress, shortHop } from '../diagnose/expectations.js';
import { ether, icmpEcho, ipv4 } from '../helpers/frames.js';
import { runProgram, withLab } from '../helpers/lab.js';
import { pcapFile } from '../helpers/pcap.js';

/**
 * The Debian package (issue 21): `make deb`'s .deb has no lintian errors, installs with apt-get into
 * a clean Debian 12 root that has no Node.js at all (pulling its Depends from the mirror this
 * machine's apt uses), and the hopdump it installs runs there: --version, read of a capture,
 * discover and a diagnose of a lab fault, which names the same hops and cause as
 * test/diagnose/faults.test.ts (the lab's namespaces are visible in the chroot through a bind mount
 * of /run/netns).
 *
 * The root comes from debootstrap --variant=minbase, cached as a tarball under
 * /var/cache/hopdump/debootstrap/ keyed by mirror and suite: the first run takes a few minutes for
 * it, later ones only extract it. Every mount is a recursive bind made a slave (an unmount inside
 * never propagates back to the host), and all are undone, and the root removed, whatever happens.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SUITE = 'bookworm';
const CACHE = join(process.env.HOPDUMP_CACHE ?? '/var/cache/hopdump', 'debootstrap');
const CHROOT_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (never rejects): long steps get long timeouts. */
function run(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return runProgram(file, args, env, { timeoutMs, maxBuffer: 256 << 20 });
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}

async function timed<T>(t: TestContext, what: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const out = await fn();
  t.diagnostic(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return out;
}

/** The Debian mirror this machine's apt uses for the suite (deb822 .sources or one-line .list files). */
function aptMirror(): string {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d'))
    for (const f of readdirSync('/etc/apt/sources.list.d').sort())
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f));
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Enabled')[0] === 'no' || !field('Types').includes('deb')) continue;
        if (field('Suites').includes(SUITE) && field('URIs')[0]) return field('URIs')[0]!;
      }
    } else {
      for (const line of text.split('\n')) {
        const m = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s`).exec(line.trim());
        if (m) return m[1]!;
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

function mountsUnder(dir: string): string[] {
  return execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.replace(/\\x20/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Removes a directory only when nothing is mounted below it (rm would otherwise empty the host's /dev). */
function removeRoot(dir: string): void {
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted under ${dir}, not removed: ${left.join(', ')}`);
  execFileSync('rm', ['-rf', '--one-file-system', dir]);
}

/** The cached minbase root of SUITE from the mirror, made with debootstrap when missing. */
async function cachedRoot(t: TestContext, mirror: string): Promise<string> {
  const key = createHash('sha256').update(`${mirror} ${SUITE} minbase`).digest('hex').slice(0, 12);
  const tarball = join(CACHE, `${SUITE}-minbase-${key}.tar.zst`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync('/var/tmp/hd-db-debootstrap-');
  try {
    await timed(t, `debootstrap --variant=minbase ${SUITE} from ${mirror} (first run only)`, async () =>
      ok(
        await run('debootstrap', ['--variant=minbase', SUITE, join(work, 'root'), mirror], 30 * 60_000),
        'debootstrap',
      ),
    );
    // The package lists of the day are refreshed on every run (apt-get update); the archives go.
    execFileSync('sh', [
      '-c',
      'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages',
      '-',
      join(work, 'root'),
    ]);
    const part = `${tarball}.${process.pid}.part`;
    ok(await run('tar', ['-C', join(work, 'root'), '--numeric-owner', '--zstd', '-cf', part, '.'], 10 * 60_000), 'tar');
    renameSync(part, tarball);
  } finally {
    removeRoot(work);
  }
  return tarball;
}

/** `make deb`'s package: built here unless release/ already holds one newer than its executable. */
async function debPackage(t: TestContext): Promise<{ deb: string; lintian: string }> {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const deb = join(REPO, 'release', `hopdump_${version}_amd64.deb`);
  const exe = join(REPO, 'release', 'hopdump-linux-x64');
  const mtime = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : -1);
  ok(await run('make', ['-s', '-C', REPO, 'deb-deps'], 15 * 60_000), 'make deb-deps');
  if (mtime(deb) > 0 && mtime(deb) >= mtime(exe)) {
    const r = await timed(t, 'lintian on the .deb release/ held', () =>
      run('lintian', ['--display-info', '--show-overrides', deb], 10 * 60_000),
    );
    return { deb, lintian: r.stdout + r.stderr };
  }
  // The executable is rebuilt only when missing or older than the build it bundles (make exe).
  if (mtime(exe) < mtime(join(REPO, 'dist/src/cli/exe.js')))
    await timed(t, 'make exe', async () =>
      ok(await run(process.execPath, [join(REPO, 'scripts/build-exe.mjs')], 10 * 60_000), 'build-exe'),
    );
  const r = await timed(t, 'scripts/build-deb.sh (dpkg-deb and lintian)', async () =>
    ok(await run(join(REPO, 'scripts/build-deb.sh'), [], 20 * 60_000), 'build-deb.sh'),
  );
  return { deb, lintian: r.stdout + r.stderr };
}

test('the .deb: lintian has no errors; it installs into a Debian 12 root without Node and diagnoses there', async (t) => {
  const { deb, lintian } = await debPackage(t);
  const errors = lintian.split('\n').filter((l) => l.startsWith('E: '));
  assert.deepEqual(errors, [], 'lintian errors');
  t.diagnostic(`lintian: ${lintian.split('\n').filter((l) => /^[WIO]: /.test(l)).length} W/I/O lines, no E:`);

  const mirror = aptMirror();
  const tarball = await cachedRoot(t, mirror);
  const root = mkdtempSync('/var/tmp/hd-db-chroot-');
  const mounts: string[] = [];
  const bind = (src: string, rel: string) => {
    const dst = join(root, rel);
    mkdirSync(dst, { recursive: true });
    execFileSync('mount', ['--rbind', src, dst]);
    mounts.push(dst);
    execFileSync('mount', ['--make-rslave', dst]);
  };
  const inRoot = (args: string[], timeoutMs = 120_000) => run('chroot', [root, ...args], timeoutMs, CHROOT_ENV);
  try {
    await timed(t, 'extract the cached root', async () =>
      ok(await run('tar', ['-C', root, '--numeric-owner', '--zstd', '-xpf', tarball], 10 * 60_000), 'tar -x'),
    );
    // The root is a mount point of its own (a slave bind onto itself): ip netns exec, run by hopdump
    // inside it, makes / a slave in its private mount namespace, which a plain directory is not.
    bind(root, '');
    bind('/proc', 'proc');
    bind('/sys', 'sys');
    bind('/dev', 'dev');
    copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
    // No service starts inside (the standard policy-rc.d "101: not allowed").
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    copyFileSync(deb, join(root, 'tmp/hopdump.deb'));

    const before = await inRoot(['sh', '-c', 'command -v node || command -v nodejs']);
    assert.notEqual(before.code, 0, `the clean root has no Node: ${before.stdout}`);
    await timed(
      t,
      'apt-get update and apt-get install ./hopdump.deb (Depends and Recommends from the mirror)',
      async () => {
        ok(await inRoot(['apt-get', 'update', '-q'], 10 * 60_000), 'apt-get update');
        const r = ok(
          await inRoot(['apt-get', 'install', '-y', '-q', '/tmp/hopdump.deb'], 15 * 60_000),
          'apt-get install',
        );
        assert.doesNotMatch(r.stdout, /\bnodejs\b/, 'apt installs no nodejs');
      },
    );
    const node = await inRoot([
      'sh',
      '-c',
      'command -v node || command -v nodejs || ls /usr/bin/node* /usr/local/bin/node*',
    ]);
    assert.notEqual(node.code, 0, `no Node in the root after the install: ${node.stdout}`);
    const nodePkg = await inRoot(['dpkg-query', '-W', '-f', '${Status}', 'nodejs']);
    assert.doesNotMatch(nodePkg.stdout, /install ok installed/);

    const version = ok(await inRoot(['hopdump', '--version']), 'hopdump --version');
    assert.match(version.stdout, /^hopdump \d+\.\d+\.\d+/);
    const files = ok(await inRoot(['dpkg', '-L', 'hopdump']), 'dpkg -L').stdout;
    for (const f of [
      '/usr/bin/hopdump',
      '/usr/share/hopdump/schema/report.schema.json',
      '/lib/systemd/system/hopdump-watch.service',
      '/usr/share/doc/hopdump/copyright',
    ])
      assert.ok(files.split('\n').includes(f), `the package installs ${f}`);

    // read: three ICMP echo requests, as tcpdump -nn -r prints them.
    const frames = [1, 2, 3].map((seq) =>
      ether(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 1, payload: icmpEcho({ seq }) })),
    );
    writeFileSync(join(root, 'tmp/echo.pcap'), pcapFile(frames.map((data, i) => ({ data, sec: 1_700_000_000 + i }))));
    const read = ok(await inRoot(['hopdump', 'read', '/tmp/echo.pcap']), 'hopdump read');
    const lines = read.stdout.trim().split('\n');
    assert.equal(lines.length, 3, read.stdout);
    lines.forEach((l, i) =>
      assert.match(l, new RegExp(`IP 192\\.0\\.2\\.1 > 192\\.0\\.2\\.2: ICMP echo request, id 7, seq ${i + 1}`)),
    );

    const fault = FAULTS.find((f) => f.name === 'firewall-drop')!;
    const want = EXPECT[fault.name]!;
    await withLab({ topology: fault.topology, fault: fault.name, prefix: 'db' }, async (lab) => {
      // After the lab is up: its namespaces, and any made later, appear in the root (a slave bind).
      bind('/run/netns', 'run/netns');
      const discover = ok(
        await inRoot(['hopdump', 'discover', '--netns', lab.state.hypervisor, '--json']),
        'hopdump discover',
      );
      const topology = JSON.parse(discover.stdout) as { namespaces: Array<{ interfaces: Array<{ ifname: string }> }> };
      const ifnames = topology.namespaces.flatMap((n) => n.interfaces.map((i) => i.ifname));
      for (const i of ['eth0', 'br0', 'vnet0']) assert.ok(ifnames.includes(i), `discover sees the lab's ${i}`);

      const target = findTopology(fault.topology).targets.find((x) => x.name === fault.target)!;
      const address = faultAddress(fault, target);
      const r = await timed(t, 'hopdump diagnose in the root', () =>
        inRoot(
          [
            'hopdump',
            'diagnose',
            '--netns',
            lab.state.hypervisor,
            '--target',
            address,
            '--from',
            `netns:${lab.ns('client')}`,
            '--json',
            '--out',
            '-',
          ],
          180_000,
        ),
      );
      assert.equal(r.code, 1, `diagnose finds a problem (exit 1): ${r.stderr}`);
      const report = JSON.parse(r.stdout) as {
        status: string;
        causes: Array<{ id: string }>;
        loss: {
          direction: 'to-target' | 'from-target';
          lastSeenHop: { netns: string; ifname: string } | null;
          firstMissingHop: { netns: string; ifname: string } | null;
        } | null;
      };
      const got = report.loss && {
        direction: report.loss.direction,
        last: shortHop(report.loss.lastSeenHop, fault.topology),
        missing: shortHop(report.loss.firstMissingHop, fault.topology),
      };
      const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => c.id).join(',')}`;
      assert.deepEqual(got, want.loss, story);
      assert.equal(report.causes[0]?.id, want.top, story);
      assert.ok([want.status].flat().includes(report.status as never), story);
    });
  } finally {
    for (const m of mounts.reverse()) {
      try {
        execFileSync('umount', ['-R', m]);
      } catch {
        execFileSync('umount', ['-R', '-l', m]);
      }
    }
    removeRoot(root);
  }
});
