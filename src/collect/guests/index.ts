import { statSync } from 'node:fs';
import type { GuestNic } from '../../model/guests.js';
import type { Namespace } from '../../model/topology.js';
import { readIncusGuests } from './incus.js';
import { readLibvirtFiles } from './libvirt-files.js';
import { readLxcGuests } from './lxc.js';
import { readProxmoxGuests } from './proxmox.js';
import { readQemuGuests } from './qemu.js';

/**
 * The root directory guest sources are read under: "/" on a real host; a
 * tree of recorded files for tests and for a host's files copied elsewhere
 * (HOPDUMP_HOST_ROOT). Each source is read only where its files exist.
 */
export function hostRoot(option?: string): string {
  return option ?? process.env['HOPDUMP_HOST_ROOT'] ?? '/';
}

export function readGuests(root: string, warnings: string[]): GuestNic[] {
  const sources: Array<[string, () => GuestNic[]]> = [
    ['QEMU processes', () => readQemuGuests(root)],
    ['libvirt status and lease files', () => readLibvirtFiles(root, warnings)],
    ['Proxmox VE configs', () => readProxmoxGuests(root)],
    ['LXC configs', () => readLxcGuests(root)],
    ['Incus/LXD instances', () => readIncusGuests(root, warnings)],
  ];
  const out: GuestNic[] = [];
  for (const [what, read] of sources) {
    try {
      out.push(...read());
    } catch (err) {
      warnings.push(`${what} could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/**
 * Names the namespace each QEMU process runs in (its tap is there), by the
 * inode of its /proc/PID/ns/net against each collected namespace's. A QEMU
 * process in a namespace hopdump did not collect is another host's (another
 * lab's, a container's): its NICs are dropped, so that a tap of the same name
 * elsewhere is not taken for it. `hostFiles`: whether the files read describe
 * the namespace seen as the host (root mode, or a root directory given).
 */
export function placeGuests(
  guests: GuestNic[],
  namespaces: Namespace[],
  selfNetns: boolean,
  hostFiles = selfNetns,
): GuestNic[] {
  const inodes = new Map<number, string>();
  for (const ns of namespaces) {
    const file = ns.name
      ? `/run/netns/${ns.name}`
      : ns.id.startsWith('pid:')
        ? `/proc/${ns.id.slice(4)}/ns/net`
        : ns.isRoot && selfNetns
          ? '/proc/self/ns/net'
          : undefined;
    if (!file) continue;
    try {
      inodes.set(statSync(file).ino, ns.id);
    } catch {
      // Gone meanwhile.
    }
  }
  return guests.flatMap((g) => {
    if (g.netnsInode === undefined) {
      // A config file describes the host's own root namespace: with --netns (another namespace
      // seen as the host) its device names are not that namespace's, unless a root was given.
      if (hostFiles || !g.ifname) return [g];
      const { ifname: _dropped, ...rest } = g;
      return [rest];
    }
    const id = inodes.get(g.netnsInode);
    if (!id) return [];
    const ns = namespaces.find((n) => n.id === id);
    return [nameByIfindex({ ...g, netns: id }, ns)];
  });
}

/** A NIC known by its device's ifindex only (a macvtap QEMU opened by fd): named from its namespace. */
export function nameByIfindex(g: GuestNic, ns: Namespace | undefined): GuestNic {
  if (g.ifname || g.ifindex === undefined) return g;
  const dev = ns?.interfaces.find((i) => i.ifindex === g.ifindex);
  return dev ? { ...g, ifname: dev.ifname, why: `${g.why}: ${dev.ifname}` } : g;
}
