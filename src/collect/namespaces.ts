import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { NETNS_RUN_DIR } from '../host/local.js';

/**
 * Network namespaces that have no name in /run/netns (containers, libvirt's
 * LXC, systemd's PrivateNetwork) are found through the processes in them:
 * every distinct /proc/PID/ns/net that is neither the root's nor a named one.
 * Each is entered through its oldest process (the earliest start time): a
 * container's init lives as long as its namespace, while a process that
 * happens to have a lower pid (a `docker exec`, an `nsenter` of another tool,
 * pids that wrapped) may be gone by the time the namespace is read.
 */
export function unnamedNamespacePids(): Array<{ pid: number; inode: string }> {
  // "Root" is the namespace hopdump runs in, which in a container is not PID 1's.
  const root = safeReadlink('/proc/self/ns/net');
  const named = new Set<string>();
  try {
    for (const name of readdirSync(NETNS_RUN_DIR)) {
      try {
        named.add(`net:[${statSync(`${NETNS_RUN_DIR}/${name}`).ino}]`);
      } catch {
        /* vanished */
      }
    }
  } catch {
    /* no named namespaces */
  }
  const found = new Map<string, { pid: number; start?: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const link = safeReadlink(`/proc/${entry}/ns/net`);
    if (!link || link === root || named.has(link)) continue;
    const pid = Number(entry);
    const first = found.get(link);
    if (!first) {
      found.set(link, { pid });
      continue;
    }
    // A second process in the namespace: the one that started first is kept.
    first.start ??= startTime(first.pid);
    const start = startTime(pid);
    if (start < first.start) found.set(link, { pid, start });
  }
  return [...found.entries()].map(([inode, { pid }]) => ({ pid, inode }));
}

/** A process's start time (clock ticks after boot; /proc/PID/stat field 22); Infinity if it is gone. */
function startTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const t = Number(fields[19]);
    return Number.isFinite(t) ? t : Infinity;
  } catch {
    return Infinity;
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
