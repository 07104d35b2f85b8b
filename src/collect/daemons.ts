import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { NETNS_RUN_DIR } from '../host/local.js';

/**
 * The infrastructure daemons that run on this host, found the way an operator
 * would with `ps`: by /proc/PID/comm and the command line, with the network
 * and mount namespaces they run in. Discovery starts from these (and from each
 * tool's own variables), never from a path it knows in advance, so that an
 * ovsdb-server inside a container (Kolla's openvswitch_db), a dockerd with its
 * socket somewhere else, or a libvirtd in its own mount namespace are found
 * like the packaged ones. Reading /proc is file reading: nothing is started.
 */

/** Programs looked for, by /proc/PID/comm (at most 15 characters, as the kernel keeps it). */
export const DAEMON_PROGRAMS = [
  'ovsdb-server',
  'ovs-vswitchd',
  'dockerd',
  'podman',
  'conmon',
  'libvirtd',
  'virtqemud',
] as const;
export type DaemonProgram = (typeof DAEMON_PROGRAMS)[number];

export interface DaemonProcess {
  pid: number;
  program: DaemonProgram;
  argv: string[];
  /** Its network namespace as the kernel names it ("net:[4026531840]"); undefined when it could not be read (not root). */
  netns: string | undefined;
  /** Whether it sees the same mount namespace as hopdump (so its paths are ours). */
  sameMounts: boolean;
  /** Its environment (OVS_RUNDIR, ...), only where readable. */
  env: Record<string, string>;
}

/** One walk of /proc; every collector of one discovery shares it. */
export interface DaemonScan {
  processes: DaemonProcess[];
}

const WANTED = new Set<string>(DAEMON_PROGRAMS);

export function scanDaemons(): DaemonScan {
  const ownMounts = readlinkOr('/proc/self/ns/mnt');
  const processes: DaemonProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { processes };
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (!WANTED.has(comm)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[argv.length - 1] === '') argv.pop();
    // A podman process is a system service only when it serves the API.
    if (comm === 'podman' && !(argv.includes('system') && argv.includes('service'))) continue;
    // conmon monitors one container each; Podman's (not CRI-O's) names podman as its exit command.
    if (comm === 'conmon' && !argv.includes('--exit-command')) continue;
    const mounts = readlinkOr(`/proc/${entry}/ns/mnt`);
    processes.push({
      pid: Number(entry),
      program: comm as DaemonProgram,
      argv,
      netns: readlinkOr(`/proc/${entry}/ns/net`),
      sameMounts: mounts === undefined || mounts === ownMounts,
      env: comm.startsWith('ovs') ? readEnviron(Number(entry)) : {},
    });
  }
  processes.sort((a, b) => a.pid - b.pid);
  return { processes };
}

function readEnviron(pid: number): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return out;
  } catch {
    return {};
  }
}

function readlinkOr(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The network namespace a collector looks at, named as /proc/PID/ns/net names
 * it: the one hopdump runs in (undefined), a named one (its /run/netns bind
 * mount has the namespace's inode), or "pid:N".
 */
export function netnsIdentity(netns: string | undefined): string | undefined {
  if (!netns) return readlinkOr('/proc/self/ns/net');
  const pid = netns.match(/^pid:(\d+)$/)?.[1];
  if (pid) return readlinkOr(`/proc/${pid}/ns/net`);
  try {
    return `net:[${statSync(`${NETNS_RUN_DIR}/${netns}`).ino}]`;
  } catch {
    return undefined;
  }
}

/**
 * A path as the daemon sees it, made into one hopdump can open: the same path
 * when the daemon shares hopdump's mounts (or the path is the same file in
 * both), else through /proc/PID/root (a daemon in a container or its own mount
 * namespace). Relative paths are taken from the daemon's working directory.
 */
export function daemonPath(d: Pick<DaemonProcess, 'pid' | 'sameMounts'>, path: string): string {
  let p = path;
  if (!isAbsolute(p)) {
    const cwd = readlinkOr(`/proc/${d.pid}/cwd`) ?? '/';
    p = posix.normalize(join(cwd, p));
  }
  if (d.sameMounts) return p;
  const through = `/proc/${d.pid}/root${p}`;
  const a = statOr(p);
  const b = statOr(through);
  if (a && b && a.dev === b.dev && a.ino === b.ino) return p;
  return through;
}

/** The identity of a file (device and inode), to tell whether two paths name one socket. */
export function fileIdentity(path: string): string | undefined {
  const s = statOr(path);
  return s ? `${s.dev}:${s.ino}` : undefined;
}

function statOr(path: string): { dev: number; ino: number } | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

/** The value of an option given as `--name=V`, `--name V`, or (for short ones) `-n V` / `-nV`; every occurrence. */
export function optionValues(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    for (const n of names) {
      if (a === n && i + 1 < argv.length) {
        out.push(argv[i + 1]!);
        i++;
        break;
      }
      if (a.startsWith(`${n}=`)) {
        out.push(a.slice(n.length + 1));
        break;
      }
      if (n.length === 2 && !n.startsWith('--') && a.startsWith(n) && a.length > 2 && !a.startsWith('--')) {
        out.push(a.slice(2));
        break;
      }
    }
  }
  return out;
}

/**
 * Which daemon among `processes` listens on `socket` (a path hopdump can open):
 * the one one of whose own socket paths is the same file.
 */
export function ownerOf<T extends DaemonProcess>(
  socket: string,
  processes: Array<{ process: T; sockets: string[] }>,
): T | undefined {
  const id = fileIdentity(socket);
  if (!id) return undefined;
  return processes.find((p) => p.sockets.some((s) => fileIdentity(s) === id))?.process;
}

/**
 * Picks the socket that serves the namespace being collected, from candidates
 * in the order their tool would try them. An explicit choice (the tool's own
 * variable) is taken as it is; a socket whose daemon was found is taken only
 * when that daemon runs in the namespace being collected; a socket whose
 * daemon could not be seen (hopdump not root) only for the host itself.
 */
export function pickSocket<C extends { socket: string; explicit?: boolean; owner?: DaemonProcess | undefined }>(
  candidates: C[],
  want: string | undefined,
  unknownOwnerOk: boolean,
): C | undefined {
  for (const c of candidates) {
    if (c.explicit) return c;
    if (c.owner?.netns !== undefined) {
      if (want !== undefined && c.owner.netns === want) return c;
      continue;
    }
    if (unknownOwnerOk) return c;
  }
  return undefined;
}
