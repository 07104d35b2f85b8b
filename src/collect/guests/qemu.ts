import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestNic } from '../../model/guests.js';

/**
 * QEMU guests from their processes: /proc/PID/cmdline of every qemu-system-*
 * process, its `-netdev`/`-nic`/`-device` options joined by netdev id, and a
 * tap opened by file descriptor (`-netdev tap,fd=N`, as libvirt does) named
 * through /proc/PID/fdinfo/N, whose `iff:` line the tun driver prints
 * (drivers/net/tun.c tun_chr_show_fdinfo). A macvtap's character device has
 * no such line (drivers/net/tap.c prints none): the fd is /dev/tapIFINDEX,
 * the macvtap's ifindex in the namespace QEMU runs in (macvtap.c names its
 * device "tap%d" after dev->ifindex), named once that namespace is known
 * (placeGuests).
 */

/** One QEMU option value: `tap,id=n0,ifname=tap0` or libvirt's JSON form `{"type":"tap",...}`. */
export function parseQemuOption(value: string, implied: string): Record<string, string> {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    try {
      const obj = JSON.parse(trimmed) as Record<string, unknown>;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(obj))
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      if (out['driver'] && !out[implied]) out[implied] = out['driver'];
      return out;
    } catch {
      return {};
    }
  }
  // QEMU's option syntax: comma-separated key=value, ",," is a literal comma,
  // and a first element without "=" is the implied key (type or driver).
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i]!;
    if (c === ',' && trimmed[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const out: Record<string, string> = {};
  parts.forEach((p, idx) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (idx === 0 && p) out[implied] = p;
      return;
    }
    out[p.slice(0, eq)] = p.slice(eq + 1);
  });
  return out;
}

export interface QemuNic {
  /** netdev id, when there is one. */
  id?: string;
  ifname?: string;
  /** -netdev bridge: the bridge qemu-bridge-helper puts the tap on. */
  bridge?: string;
  /** The file descriptor of a tap passed in (fd=N, or the first of fds=N:M). */
  fd?: number;
  mac?: string;
  /** The options as written, for the operator. */
  text: string[];
}

/** The tap NICs a QEMU command line (argv) sets up. */
export function parseQemuCmdline(argv: string[]): QemuNic[] {
  const netdevs = new Map<string, QemuNic>();
  const nics: QemuNic[] = [];
  const devices: Array<{ netdev: string; mac?: string; text: string }> = [];
  for (let i = 0; i < argv.length - 1; i++) {
    const opt = argv[i]!.replace(/^--/, '-');
    const value = argv[i + 1]!;
    if (opt === '-netdev') {
      const o = parseQemuOption(value, 'type');
      if (o['type'] !== 'tap' && o['type'] !== 'bridge') continue;
      const fdText = o['fd'] ?? o['fds']?.split(':')[0];
      const nic: QemuNic = {
        ...(o['id'] ? { id: o['id'] } : {}),
        // -netdev bridge,br=X: qemu-bridge-helper makes the tap (its name is the kernel's) and enslaves
        // it to X (without br=, QEMU's compiled-in default bridge, left unnamed here).
        ...(o['type'] === 'bridge' && o['br'] ? { bridge: o['br'] } : {}),
        ...(o['ifname'] ? { ifname: o['ifname'] } : {}),
        ...(fdText && /^\d+$/.test(fdText) ? { fd: Number(fdText) } : {}),
        text: [`-netdev ${value}`],
      };
      if (o['id']) netdevs.set(o['id'], nic);
      else nics.push(nic);
    } else if (opt === '-nic') {
      const o = parseQemuOption(value, 'type');
      if (o['type'] !== 'tap' && o['type'] !== 'bridge') continue;
      const fdText = o['fd'] ?? o['fds']?.split(':')[0];
      nics.push({
        ...(o['type'] === 'bridge' && o['br'] ? { bridge: o['br'] } : {}),
        ...(o['ifname'] ? { ifname: o['ifname'] } : {}),
        ...(fdText && /^\d+$/.test(fdText) ? { fd: Number(fdText) } : {}),
        ...(o['mac'] ? { mac: o['mac'].toLowerCase() } : {}),
        text: [`-nic ${value}`],
      });
    } else if (opt === '-device') {
      const o = parseQemuOption(value, 'driver');
      if (o['netdev'])
        devices.push({
          netdev: o['netdev'],
          ...(o['mac'] ? { mac: o['mac'].toLowerCase() } : {}),
          text: `-device ${value}`,
        });
    }
  }
  for (const d of devices) {
    const n = netdevs.get(d.netdev);
    if (!n) continue;
    if (d.mac) n.mac = d.mac;
    n.text.push(d.text);
  }
  return [...nics, ...netdevs.values()];
}

/** The tun/tap device a tun file descriptor is attached to: fdinfo's `iff:` line. */
export function parseTunFdinfo(text: string): string | undefined {
  return text.match(/^iff:\s*(\S+)/m)?.[1];
}

/** The ifindex of the macvtap (or ipvtap) whose character device a file descriptor opened: /dev/tapIFINDEX. */
export function parseTapDevice(link: string): number | undefined {
  const m = link.match(/^\/dev\/tap(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

/** Every qemu-system-* process under `root`/proc and its tap NICs. */
export function readQemuGuests(root: string): GuestNic[] {
  const proc = join(root, 'proc');
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: GuestNic[] = [];
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(join(proc, pid, 'cmdline'), 'utf8')
        .split('\0')
        .filter((a, i, all) => a !== '' || i < all.length - 1);
    } catch {
      continue;
    }
    if (!argv[0] || !/(^|\/)qemu-system-[\w-]+$|(^|\/)qemu-kvm$|(^|\/)kvm$/.test(argv[0])) continue;
    const name = qemuName(argv);
    let inode: number | undefined;
    try {
      inode = statSync(join(proc, pid, 'ns', 'net')).ino;
    } catch {
      inode = undefined;
    }
    for (const nic of parseQemuCmdline(argv)) {
      let ifname = nic.ifname;
      let ifindex: number | undefined;
      let via = '';
      if (!ifname && nic.fd !== undefined) {
        try {
          ifname = parseTunFdinfo(readFileSync(join(proc, pid, 'fdinfo', String(nic.fd)), 'utf8'));
          if (ifname) via = ` (fd ${nic.fd} is ${ifname}, /proc/${pid}/fdinfo)`;
        } catch {
          // The process ended, or fdinfo is not readable: the NIC stays without a tap.
        }
        if (!ifname) {
          try {
            const link = readlinkSync(join(proc, pid, 'fd', String(nic.fd)));
            ifindex = parseTapDevice(link);
            if (ifindex !== undefined) via = ` (fd ${nic.fd} is ${link}: the macvtap with ifindex ${ifindex})`;
          } catch {
            // Not a link we may read (not root), or the process ended.
          }
        }
      }
      out.push({
        source: 'qemu',
        ...(name ? { name } : {}),
        ...(nic.mac ? { mac: nic.mac } : {}),
        ...(nic.bridge ? { bridge: nic.bridge } : {}),
        ...(ifname ? { ifname } : {}),
        ...(ifindex !== undefined ? { ifindex } : {}),
        addresses: [],
        pid: Number(pid),
        ...(inode !== undefined ? { netnsInode: inode } : {}),
        why: `QEMU pid ${pid}${name ? ` (${name})` : ''} ${nic.text.join(' ')}${via}${nic.mac ? '' : ' (no mac=: QEMU picks 52:54:00:12:34:5x)'}`,
      });
    }
  }
  return out;
}

/** `-name guest=vm1,debug-threads=on` or `-name vm1`. */
function qemuName(argv: string[]): string | undefined {
  const i = argv.indexOf('-name');
  if (i < 0 || !argv[i + 1]) return undefined;
  const o = parseQemuOption(argv[i + 1]!, 'guest');
  return o['guest'];
}
