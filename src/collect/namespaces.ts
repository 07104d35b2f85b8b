import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { NETNS_RUN_DIR } from '../host/local.js';

/**
 * Network namespaces that have no name in /run/netns (containers, libvirt's
 * LXC, systemd's PrivateNetwork) are found through the processes in them:
 * every distinct /proc/PID/ns/net that is neither the root's nor a named one.
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
  const found = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const link = safeReadlink(`/proc/${entry}/ns/net`);
    if (!link || link === root || named.has(link) || found.has(link)) continue;
    found.set(link, Number(entry));
  }
  return [...found.entries()].map(([inode, pid]) => ({ pid, inode }));
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
