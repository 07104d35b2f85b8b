import { sleep } from '../util/sleep.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { environmentError } from '../errors.js';
import type { Host, RunResult } from '../host/host.js';
import { labDaemonDir } from './names.js';
import type { LabBuilder } from './types.js';

/**
 * A private libvirtd for one lab namespace. libvirt 9.0 run as root is always
 * the privileged ("system") daemon, and the QEMU driver's paths are then fixed
 * at build time (/etc/libvirt, /run/libvirt, /var/lib/libvirt,
 * /var/cache/libvirt, /var/log/libvirt): no option or variable moves them, and
 * qemu:///session is refused to root. So the daemon runs in a private mount
 * namespace (`unshare --mount`) where the lab's own directories are bound over
 * those five; only its sockets live at a path everyone sees. It joins the
 * hypervisor's network namespace only (`nsenter --net`, as `lab.daemon` with
 * netOnly does) so it keeps the host's cgroup mounts (docs/docker-notes.md),
 * and its QEMU children inherit both namespaces: `lab down` ends them all
 * through `ip netns pids`, and their mounts vanish with the mount namespace.
 */

/** The system paths that the private daemon sees replaced by the lab's directories. */
const BOUND: Array<[sub: string, system: string]> = [
  ['etc', '/etc/libvirt'],
  ['run', '/run/libvirt'],
  ['lib', '/var/lib/libvirt'],
  ['cache', '/var/cache/libvirt'],
  ['log', '/var/log/libvirt'],
];

/**
 * Binds the lab's directories ($1) over the system ones (pairs after it) in the
 * fresh mount namespace, then becomes libvirtd. Fixed text: paths are
 * arguments, never pasted in.
 */
const START_SCRIPT = [
  'set -e',
  'dir=$1; shift',
  'while [ $# -gt 1 ]; do mount --bind "$dir/$1" "$2"; shift 2; done',
  'exec libvirtd --config "$dir/etc/libvirtd.conf" --pid-file "$dir/libvirtd.pid"',
].join('\n');

/**
 * Marks that the lab created the empty mount point /run/libvirt (so cleanup may
 * remove it). Next to the lab's state, not in the daemon directory: labs with
 * their daemons in different directories share the one mount point.
 */
const CREATED_RUN_LIBVIRT = '/run/hopdump/lab/.created-run-libvirt';

export function libvirtDir(netns: string, base: string = labDaemonDir()): string {
  return `${base}/libvirt/${netns}`;
}

/** The URI of the lab namespace's libvirtd, for `virsh -c` or LIBVIRT_DEFAULT_URI (base: the lab's daemon directory). */
export function libvirtUri(netns: string, base: string = labDaemonDir()): string {
  return `qemu+unix:///system?socket=${libvirtDir(netns, base)}/sock/libvirt-sock`;
}

/** Starts the private libvirtd for a role's namespace and waits until it answers. Returns its URI. */
export async function startLibvirt(lab: LabBuilder, role: string): Promise<string> {
  for (const program of ['libvirtd', 'virsh', 'qemu-system-x86_64', 'unshare']) {
    if (!lab.host.hasProgram(program)) {
      throw environmentError(
        `${program} not found`,
        'make deps (apt-get install qemu-system-x86 libvirt-daemon-system libvirt-clients)',
      );
    }
  }
  const netns = lab.ns(role);
  const dir = libvirtDir(netns, lab.daemonDir);
  rmSync(dir, { recursive: true, force: true });
  for (const [sub] of BOUND) mkdirSync(`${dir}/${sub}`, { recursive: true, mode: 0o700 });
  mkdirSync(`${dir}/sock`, { recursive: true, mode: 0o700 });
  for (const [, system] of BOUND) {
    if (existsSync(system)) continue;
    // Only /run/libvirt can be missing (tmpfiles makes it at boot on a libvirt host).
    mkdirSync(system, { recursive: true, mode: 0o755 });
    if (system === '/run/libvirt') {
      mkdirSync(dirname(CREATED_RUN_LIBVIRT), { recursive: true, mode: 0o700 });
      writeFileSync(CREATED_RUN_LIBVIRT, '');
    }
  }
  writeFileSync(`${dir}/etc/libvirtd.conf`, libvirtdConf(dir, netns), { mode: 0o600 });
  writeFileSync(`${dir}/etc/qemu.conf`, QEMU_CONF, { mode: 0o600 });
  await lab.daemon(
    role,
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      START_SCRIPT,
      'hopdump-libvirtd',
      dir,
      ...BOUND.flat(),
    ],
    { netOnly: true },
  );
  const uri = libvirtUri(netns, lab.daemonDir);
  for (let i = 0; i < 200; i++) {
    if (existsSync(`${dir}/sock/libvirt-sock`)) {
      const r = await lab.host.run(['virsh', '-q', '-c', uri, 'uri'], { okCodes: 'any', timeoutMs: 10_000 });
      if (r.code === 0) return uri;
    }
    await sleep(50);
  }
  throw environmentError(`libvirtd did not start in ${netns}`, `see ${dir}/libvirtd.log`);
}

/** virsh against the lab namespace's own libvirtd. */
export function virsh(
  lab: LabBuilder,
  role: string,
  args: string[],
  options: { okCodes?: number[] | 'any'; timeoutMs?: number } = {},
): Promise<RunResult> {
  return virshAt(lab.host, lab.ns(role), args, { ...options, base: lab.daemonDir });
}

/** The same, given the hypervisor namespace's name (for tests and cleanup) and the lab's daemon directory. */
export function virshAt(
  host: Host,
  netns: string,
  args: string[],
  options: { okCodes?: number[] | 'any'; timeoutMs?: number; base?: string } = {},
): Promise<RunResult> {
  const { base, ...rest } = options;
  return host.run(['virsh', '-q', '-c', libvirtUri(netns, base), ...args], { timeoutMs: 30_000, ...rest });
}

/**
 * Removes what a lab's libvirtd left once its processes were killed: any
 * QEMU or libvirtd still alive by its pid file (e.g. if its namespace was
 * deleted first), the directories, and /run/libvirt when the lab made it and
 * no other lab's libvirtd is left. Idempotent.
 */
export function removeLibvirtDirs(netnsNames: string[], base: string = labDaemonDir()): void {
  for (const ns of netnsNames) {
    const dir = libvirtDir(ns, base);
    if (!existsSync(dir)) continue;
    for (const pid of pidsOf(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    // Any libvirtd still running (another lab's, wherever its directory is) may have its mount there.
    if (!anyLibvirtd() && existsSync(CREATED_RUN_LIBVIRT)) {
      rmdirSync('/run/libvirt');
      rmSync(CREATED_RUN_LIBVIRT, { force: true });
    }
  } catch {
    /* not empty, or never made */
  }
}

function anyLibvirtd(): boolean {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'libvirtd') return true;
    } catch {
      /* exited */
    }
  }
  return false;
}

/** libvirtd's own pid file and QEMU's (in the private /run/libvirt/qemu, i.e. run/qemu/). */
function pidsOf(dir: string): number[] {
  const files = [`${dir}/libvirtd.pid`];
  try {
    for (const f of readdirSync(`${dir}/run/qemu`)) if (f.endsWith('.pid')) files.push(`${dir}/run/qemu/${f}`);
  } catch {
    /* no domain ever started */
  }
  const pids: number[] = [];
  for (const f of files) {
    try {
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1 && isDaemonOfDir(pid)) pids.push(pid);
    } catch {
      /* no such file */
    }
  }
  return pids;
}

/** A pid file can outlive its process and the pid be reused: only libvirtd or qemu are killed. */
function isDaemonOfDir(pid: number): boolean {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'libvirtd' || comm.startsWith('qemu-system');
  } catch {
    return false;
  }
}

function libvirtdConf(dir: string, netns: string): string {
  // A stable host UUID per lab: libvirtd otherwise reads SMBIOS, which VMs and containers often lack.
  const h = createHash('sha256').update(netns).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return [
    '# hopdump lab: private libvirtd (see src/lab/libvirt.ts)',
    `unix_sock_dir = "${dir}/sock"`,
    'unix_sock_ro_perms = "0700"',
    'unix_sock_rw_perms = "0700"',
    'unix_sock_admin_perms = "0700"',
    'auth_unix_ro = "none"',
    'auth_unix_rw = "none"',
    `host_uuid = "${uuid}"`,
    `log_outputs = "3:file:${dir}/libvirtd.log"`,
    '',
  ].join('\n');
}

/**
 * Root, no security driver, no cgroups, no private /dev, QEMU's output to a
 * file instead of virtlogd: the lab's QEMU is a plain child of its libvirtd.
 */
const QEMU_CONF = [
  '# hopdump lab: private libvirtd (see src/lab/libvirt.ts)',
  'user = "root"',
  'group = "root"',
  'dynamic_ownership = 0',
  'remember_owner = 0',
  'security_driver = "none"',
  'cgroup_controllers = [ ]',
  'namespaces = [ ]',
  'stdio_handler = "file"',
  'lock_manager = "nop"',
  '',
].join('\n');
