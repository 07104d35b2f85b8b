import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestNic } from '../../model/guests.js';

/**
 * LXC containers' configs (/var/lib/lxc/NAME/config, lxc.container.conf(5)):
 * `lxc.net.N.link` (the bridge), `lxc.net.N.hwaddr`, `lxc.net.N.ipv4.address`
 * / `ipv6.address` (ADDR/LEN), `lxc.net.N.veth.pair` (the host side's name,
 * else the kernel's vethXXXXXX). LXC 2's `lxc.network.*` keys list NICs by
 * order of `lxc.network.type` lines instead of by index.
 */
export function parseLxcConfig(text: string, name: string, file: string): GuestNic[] {
  const nics = new Map<string, Record<string, string[]>>();
  let legacy = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    let idx: string;
    let field: string;
    const m = key.match(/^lxc\.net\.(\d+)\.(.+)$/);
    if (m) {
      idx = m[1]!;
      field = m[2]!;
    } else if (key.startsWith('lxc.network.')) {
      field = key.slice('lxc.network.'.length);
      if (field === 'type') legacy++;
      if (legacy < 0) continue;
      idx = `legacy${legacy}`;
      if (field === 'ipv4') field = 'ipv4.address';
      if (field === 'ipv6') field = 'ipv6.address';
    } else continue;
    const nic = nics.get(idx) ?? {};
    (nic[field] ??= []).push(value);
    nics.set(idx, nic);
  }
  const out: GuestNic[] = [];
  for (const [idx, nic] of nics) {
    const type = nic['type']?.[0];
    if (type && type !== 'veth' && type !== 'macvlan') continue;
    const addresses = [...(nic['ipv4.address'] ?? []), ...(nic['ipv6.address'] ?? [])]
      .flatMap((a) => a.split(/\s+/))
      .filter(Boolean)
      .map((a) => a.replace(/\/\d+$/, ''));
    const mac = nic['hwaddr']?.[0];
    // An hwaddr with x placeholders (00:16:3e:xx:xx:xx) is filled in at start: not this NIC's MAC.
    const realMac = mac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) ? mac.toLowerCase() : undefined;
    const link = nic['link']?.[0];
    const pair = nic['veth.pair']?.[0];
    out.push({
      source: 'lxc',
      name,
      ...(realMac ? { mac: realMac } : {}),
      ...(link ? { bridge: link } : {}),
      ...(pair ? { ifname: pair } : {}),
      addresses,
      why: `LXC container ${name} ${file} lxc.net.${idx.replace('legacy', '')}: ${[
        type ?? 'veth',
        link && `link ${link}`,
        mac && `hwaddr ${mac}`,
        addresses.length && `address ${addresses.join(' ')}`,
      ]
        .filter(Boolean)
        .join(', ')}`,
    });
  }
  return out;
}

const LXC_DIRS = ['var/lib/lxc'];

export function readLxcGuests(root: string): GuestNic[] {
  const out: GuestNic[] = [];
  for (const dir of LXC_DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        out.push(
          ...parseLxcConfig(
            readFileSync(join(root, dir, name, 'config'), 'utf8'),
            name,
            join('/', dir, name, 'config'),
          ),
        );
      } catch {
        // Not a container directory.
      }
    }
  }
  return out;
}
