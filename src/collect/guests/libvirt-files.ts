import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { GuestNic } from '../../model/guests.js';
import { parseDomainXml } from '../libvirt.js';

/**
 * libvirt's own files, read without asking libvirtd: the QEMU driver's
 * status XML of each running domain (/run/libvirt/qemu/NAME.xml: a
 * <domstatus pid=…> around the live <domain>, with each NIC's target dev),
 * and the DHCP leases of its networks (/var/lib/libvirt/dnsmasq/BRIDGE.status,
 * the JSON that libvirt's leaseshelper keeps, and dnsmasq's own *.leases).
 */

/** Directories the QEMU driver keeps status XML in (system daemon). */
const STATUS_DIRS = ['run/libvirt/qemu'];
const LEASE_DIRS = ['var/lib/libvirt/dnsmasq'];

export function parseDomainStatusXml(xml: string, file: string): GuestNic[] {
  const pid = xml.match(/<domstatus\b[^>]*\bpid=['"](\d+)['"]/)?.[1];
  const inner = xml.match(/<domain\b[\s\S]*<\/domain>/)?.[0];
  if (!inner) return [];
  const d = parseDomainXml(inner, 'running');
  return d.interfaces
    .filter((i) => i.mac || i.targetDev)
    .map((i) => ({
      source: 'libvirt' as const,
      name: d.name,
      ...(i.mac ? { mac: i.mac.toLowerCase() } : {}),
      ...(i.sourceBridge ? { bridge: i.sourceBridge } : {}),
      ...(i.targetDev ? { ifname: i.targetDev } : {}),
      addresses: [],
      ...(pid ? { pid: Number(pid) } : {}),
      why: `libvirt domain ${d.name} (${file}${pid ? `, QEMU pid ${pid}` : ''}): <interface type='${i.rawType ?? i.type}'> mac ${i.mac ?? '?'}${i.targetDev ? ` target dev ${i.targetDev}` : ''}${i.sourceBridge ? ` on ${i.sourceBridge}` : ''}`,
    }));
}

/** leaseshelper's BRIDGE.status: a JSON array of {ip-address, mac-address, hostname, expiry-time}. */
export function parseLeaseStatus(text: string, file: string): GuestNic[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  const bridge = basename(file).replace(/\.status$/, '');
  const out: GuestNic[] = [];
  for (const e of entries as Array<Record<string, unknown>>) {
    const ip = typeof e['ip-address'] === 'string' ? e['ip-address'] : undefined;
    const mac = typeof e['mac-address'] === 'string' ? e['mac-address'].toLowerCase() : undefined;
    if (!ip || !mac) continue;
    const hostname = typeof e['hostname'] === 'string' ? e['hostname'] : undefined;
    out.push({
      source: 'libvirt-lease',
      ...(hostname ? { name: hostname } : {}),
      mac,
      bridge,
      addresses: [ip],
      why: `DHCP lease ${ip} for ${mac}${hostname ? ` (${hostname})` : ''} in ${file}`,
    });
  }
  return out;
}

/**
 * dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENT-ID" per line; DHCPv6
 * lines have an IAID where the MAC is (and follow a "duid" line): skipped,
 * they name no MAC.
 */
export function parseDnsmasqLeases(text: string, file: string): GuestNic[] {
  const out: GuestNic[] = [];
  for (const line of text.split('\n')) {
    const [, mac, ip, hostname] = line.trim().split(/\s+/);
    if (!mac || !ip || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) continue;
    const name = hostname && hostname !== '*' ? hostname : undefined;
    out.push({
      source: 'libvirt-lease',
      ...(name ? { name } : {}),
      mac: mac.toLowerCase(),
      addresses: [ip],
      why: `DHCP lease ${ip} for ${mac.toLowerCase()}${name ? ` (${name})` : ''} in ${file}`,
    });
  }
  return out;
}

export function readLibvirtFiles(root: string, warnings: string[]): GuestNic[] {
  const out: GuestNic[] = [];
  for (const dir of STATUS_DIRS) {
    for (const f of list(join(root, dir)).filter((x) => x.endsWith('.xml'))) {
      const file = join('/', dir, f);
      try {
        out.push(...withNetns(root, parseDomainStatusXml(readFileSync(join(root, dir, f), 'utf8'), file)));
      } catch (err) {
        warnings.push(`${file} could not be read: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  for (const dir of LEASE_DIRS) {
    for (const f of list(join(root, dir))) {
      const file = join('/', dir, f);
      try {
        if (f.endsWith('.status')) out.push(...parseLeaseStatus(readFileSync(join(root, dir, f), 'utf8'), file));
        else if (f.endsWith('.leases')) out.push(...parseDnsmasqLeases(readFileSync(join(root, dir, f), 'utf8'), file));
      } catch {
        // A lease file rewritten while read: the next run reads it.
      }
    }
  }
  return out;
}

/**
 * The namespace the domain's QEMU runs in (its taps are there), by the inode
 * of /proc/PID/ns/net; a status file whose QEMU is gone is stale (libvirtd
 * was killed) and is dropped. A recorded tree without /proc keeps its NICs.
 */
function withNetns(root: string, nics: GuestNic[]): GuestNic[] {
  if (!existsSync(join(root, 'proc', '1'))) return nics;
  return nics.flatMap((n) => {
    if (n.pid === undefined) return [n];
    try {
      return [{ ...n, netnsInode: statSync(join(root, 'proc', String(n.pid), 'ns', 'net')).ino }];
    } catch {
      return [];
    }
  });
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
