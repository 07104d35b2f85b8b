import { sleep } from '../util/sleep.js';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { environmentError } from '../errors.js';
import type { Host, RunResult } from '../host/host.js';
import { labDaemonDir } from './names.js';
import type { LabBuilder } from './types.js';

/**
 * A private Docker Engine for one lab namespace (docs/docker-notes.md):
 * dockerd entered with `nsenter --net` only (so it keeps the host's cgroup
 * mounts), with its own data-root, exec-root, pidfile, socket and config in
 * <lab daemon dir>/docker/<netns>/ (lab.daemonDir: labDaemonDir(), default /run/hopdump, or
 * a variant's own directory), containers under the cgroup parent /<netns>.
 * Its iptables rules land in the namespace's own nf_tables. The managed
 * containerd and the shims live in the namespace too (`lab down` kills
 * them); containers run in Docker's own (unnamed) network namespaces, and
 * their overlay/nsfs mounts sit in the root mount namespace, which is why
 * `removeDockerDirs` exists.
 */
/** The Debian docker.io client: /usr/local/bin/docker on this machine is another (newer) client. */
export const DOCKER_CLI = '/usr/bin/docker';
export const BUSYBOX_IMAGE = 'hopdump/busybox';
const CGROUP_ROOT = '/sys/fs/cgroup';

export function dockerDir(netns: string, base: string = labDaemonDir()): string {
  return `${base}/docker/${netns}`;
}

export function dockerSocket(netns: string, base: string = labDaemonDir()): string {
  return `${dockerDir(netns, base)}/docker.sock`;
}

/**
 * daemon.json's network settings, in the lab's canonical terms: the file is written through the
 * lab's translation, as everything it runs is (a variant's ranges and bridge name land in it).
 */
export interface StartDockerOptions {
  /** docker0's address ("bip"), e.g. 203.0.113.1/24. */
  bip?: string;
  /** An existing bridge for the default network instead of docker0 ("bridge"; its address is the gateway). */
  bridge?: string;
  /** Pool for further networks ("default-address-pools"), e.g. { base: '192.0.2.0/24', size: 27 }. */
  addressPool: { base: string; size: number };
}

/** Fixed text; the dockerd argv follows as "$@" (its output goes to the log in the lab's directory). */
const START_SCRIPT = 'log=$1; shift; exec "$@" >"$log" 2>&1 </dev/null';

/** Starts the role's dockerd and waits until /_ping answers OK. Returns the socket path. */
export async function startDocker(lab: LabBuilder, role: string, options: StartDockerOptions): Promise<string> {
  const netns = lab.ns(role);
  const dir = dockerDir(netns, lab.daemonDir);
  await removeDockerDirs(lab.host, [netns], lab.daemonDir);
  mkdirSync(`${dir}/data`, { recursive: true, mode: 0o700 });
  mkdirSync(`${dir}/exec`, { recursive: true, mode: 0o700 });
  mkdirSync(`${dir}/client`, { recursive: true, mode: 0o700 });
  const config = {
    ...(options.bip ? { bip: options.bip } : {}),
    ...(options.bridge ? { bridge: options.bridge } : {}),
    'default-address-pools': [options.addressPool],
  };
  writeFileSync(`${dir}/daemon.json`, `${lab.real(role, JSON.stringify(config, null, 2))}\n`, { mode: 0o600 });
  const sock = dockerSocket(netns, lab.daemonDir);
  await lab.daemon(
    role,
    [
      'sh',
      '-c',
      START_SCRIPT,
      'hopdump-dockerd',
      `${dir}/dockerd.log`,
      'dockerd',
      `--config-file=${dir}/daemon.json`,
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/docker.pid`,
      '-H',
      `unix://${sock}`,
      '--storage-driver=overlay2',
      '--iptables=true',
      '--ip-forward=true',
      '--userland-proxy=false',
      `--cgroup-parent=/${netns}`,
    ],
    { netOnly: true },
  );
  for (let i = 0; i < 300; i++) {
    if (existsSync(sock)) {
      const r = await lab.host.run(['curl', '-s', '-m', '2', '--unix-socket', sock, 'http://localhost/_ping'], {
        okCodes: 'any',
      });
      if (r.code === 0 && r.stdout.trim() === 'OK') return sock;
    }
    await sleep(100);
  }
  throw environmentError(`dockerd did not answer on ${sock} within 30 s`, `see ${dir}/dockerd.log`);
}

/**
 * The docker CLI (the 20.10 client) against the role's dockerd; runs in the root namespace over
 * the unix socket. Its arguments are in the lab's canonical terms, rewritten as the role's.
 */
export function docker(
  lab: LabBuilder,
  role: string,
  args: string[],
  options: { okCodes?: number[] | 'any'; timeoutMs?: number } = {},
): Promise<RunResult> {
  const netns = lab.ns(role);
  const dir = dockerDir(netns, lab.daemonDir);
  return lab.host.run(
    [
      'env',
      `DOCKER_CONFIG=${dir}/client`,
      DOCKER_CLI,
      '-H',
      `unix://${dir}/docker.sock`,
      ...args.map((a) => lab.real(role, a)),
    ],
    { timeoutMs: 60_000, ...options },
  );
}

/**
 * Imports hopdump/busybox from the host's busybox-static: a rootfs with
 * /bin/busybox and one symlink per applet (`busybox --install -s`), no registry.
 */
export async function importBusybox(lab: LabBuilder, role: string): Promise<void> {
  const dir = dockerDir(lab.ns(role), lab.daemonDir);
  const rootfs = `${dir}/rootfs`;
  rmSync(rootfs, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'www']) {
    mkdirSync(`${rootfs}/${d}`, { recursive: true });
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw environmentError('busybox not found', 'apt-get install busybox-static');
  copyFileSync(busybox, `${rootfs}/bin/busybox`);
  const list = await lab.host.run([busybox, '--list-full']);
  for (const path of list.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    if (path === 'bin/busybox' || existsSync(`${rootfs}/${path}`)) continue;
    symlinkSync('/bin/busybox', `${rootfs}/${path}`);
  }
  writeFileSync(`${rootfs}/www/index.html`, 'hi\n');
  writeFileSync(`${rootfs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(`${rootfs}/etc/group`, 'root:x:0:\n');
  await lab.host.run(['tar', '-C', rootfs, '-cf', `${dir}/busybox.tar`, '.']);
  // An imported image has no Env: without PATH, `docker exec ct1 CMD` fails with exit 126.
  await docker(lab, role, [
    'import',
    '--change',
    'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `${dir}/busybox.tar`,
    BUSYBOX_IMAGE,
  ]);
  rmSync(rootfs, { recursive: true, force: true });
  rmSync(`${dir}/busybox.tar`, { force: true });
}

/**
 * Removes what a lab namespace's dockerd left: stops dockerd if it still
 * runs, kills its containerd, the shims and the container processes (those
 * live in Docker's own namespaces, so `lab down` does not reach them),
 * unmounts everything under the directory deepest first, removes the
 * cgroup directories /sys/fs/cgroup/<ctrl>/<netns> and the directory.
 * Idempotent; does nothing for a namespace without a directory.
 */
export async function removeDockerDirs(host: Host, netnsNames: string[], base: string = labDaemonDir()): Promise<void> {
  for (const netns of netnsNames) {
    if (!/^[A-Za-z0-9_.-]+$/.test(netns)) continue;
    const dir = dockerDir(netns, base);
    const cgroups = cgroupDirs(netns);
    if (!existsSync(dir) && cgroups.length === 0) continue;
    // dockerd first, gracefully: a clean shutdown stops containers and removes its mounts.
    const dockerd = pidFromFile(`${dir}/docker.pid`, 'dockerd');
    if (dockerd !== undefined) {
      signal(dockerd, 'SIGTERM');
      for (let i = 0; i < 100 && alive(dockerd); i++) await sleep(100);
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = new Set([...processesUsing(dir), ...cgroupProcs(cgroupDirs(netns))]);
      if (pids.size === 0) break;
      for (const pid of pids) signal(pid, 'SIGKILL');
      await sleep(100);
    }
    for (const mount of mountsUnder(dir)) {
      const r = await host.run(['umount', mount], { okCodes: 'any' });
      if (r.code !== 0) await host.run(['umount', '-l', mount], { okCodes: 'any' });
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      let left = 0;
      for (const cg of cgroupDirs(netns)) {
        try {
          rmdirSync(cg);
        } catch {
          left++;
        }
      }
      if (left === 0) break;
      await sleep(100);
    }
    if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }
}

/** /sys/fs/cgroup/<ctrl>/<netns> and every directory below it, deepest first. */
function cgroupDirs(netns: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(`${d}/${e}`);
    out.push(d);
  };
  let controllers: string[];
  try {
    controllers = readdirSync(CGROUP_ROOT);
  } catch {
    return [];
  }
  for (const c of controllers) {
    const top = `${CGROUP_ROOT}/${c}/${netns}`;
    try {
      if (statSync(top).isDirectory()) walk(top);
    } catch {
      /* no such cgroup */
    }
  }
  return out;
}

function cgroupProcs(dirs: string[]): number[] {
  const pids: number[] = [];
  for (const d of dirs) {
    try {
      for (const l of readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n')) if (/^\d+$/.test(l)) pids.push(Number(l));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Processes whose command line names the lab's directory: dockerd, containerd, shims. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a === dir || a.includes(`${dir}/`))) pids.push(Number(p));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Mount points at or under dir, deepest first (from /proc/self/mountinfo, octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

function pidFromFile(file: string, comm: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}
