import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestNic } from '../../model/guests.js';

/**
 * Proxmox VE guest configs (pmxcfs, /etc/pve): qemu-server/VMID.conf and
 * lxc/VMID.conf. A NIC is `netN: MODEL=MAC,bridge=vmbr0,firewall=1,tag=10`
 * for a VM and `netN: name=eth0,bridge=vmbr0,hwaddr=MAC,ip=ADDR/LEN,type=veth`
 * for a container. Proxmox names the host side tap<VMID>i<N> (VM) and
 * veth<VMID>i<N> (container); with firewall=1 that device is on the
 * per-NIC bridge fwbr<VMID>i<N>, not on the named bridge. A VM's cloud-init
 * `ipconfigN: ip=ADDR/LEN` is its address. Sections after `[snapshot]` are
 * snapshots, not the running config.
 */

const VM_MODELS =
  /^(virtio|e1000|e1000e|e1000-82540em|e1000-82544gc|e1000-82545em|i82551|i82557b|i82559er|ne2k_isa|ne2k_pci|pcnet|rtl8139|vmxnet3)$/;

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The current config's `key: value` lines (up to the first [snapshot] section). */
function currentLines(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) break;
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}

const stripLen = (a: string) => a.replace(/\/\d+$/, '');

export function parseProxmoxVmConf(text: string, vmid: string, file: string): GuestNic[] {
  const lines = currentLines(text);
  const name = lines.find(([k]) => k === 'name')?.[1];
  const ipconfig = new Map(
    lines.filter(([k]) => /^ipconfig\d+$/.test(k)).map(([k, v]) => [k.slice('ipconfig'.length), keyValues(v)]),
  );
  const out: GuestNic[] = [];
  for (const [k, v] of lines) {
    const m = k.match(/^net(\d+)$/);
    if (!m) continue;
    const n = m[1]!;
    const kv = keyValues(v);
    const model = Object.keys(kv).find((x) => VM_MODELS.test(x));
    const mac = model ? kv[model]?.toLowerCase() : kv['macaddr']?.toLowerCase();
    const ip = ipconfig.get(n);
    const addresses = [ip?.['ip'], ip?.['ip6']]
      .filter((a): a is string => !!a && a !== 'dhcp' && a !== 'auto')
      .map(stripLen);
    const fw = kv['firewall'] === '1';
    out.push({
      source: 'proxmox',
      name: name ? `${vmid} (${name})` : vmid,
      ...(mac ? { mac } : {}),
      ...(kv['bridge'] ? { bridge: fw ? `fwbr${vmid}i${n}` : kv['bridge'] } : {}),
      ifname: `tap${vmid}i${n}`,
      addresses,
      why: `Proxmox VM ${vmid}${name ? ` (${name})` : ''} ${file} net${n}: ${v}${addresses.length ? `; ipconfig${n} ${addresses.join(' ')}` : ''}`,
    });
  }
  return out;
}

export function parseProxmoxLxcConf(text: string, vmid: string, file: string): GuestNic[] {
  const lines = currentLines(text);
  const name = lines.find(([k]) => k === 'hostname')?.[1];
  const out: GuestNic[] = [];
  for (const [k, v] of lines) {
    const m = k.match(/^net(\d+)$/);
    if (!m) continue;
    const n = m[1]!;
    const kv = keyValues(v);
    const addresses = [kv['ip'], kv['ip6']]
      .filter((a): a is string => !!a && a !== 'dhcp' && a !== 'auto' && a !== 'manual')
      .map(stripLen);
    const fw = kv['firewall'] === '1';
    out.push({
      source: 'proxmox',
      name: name ? `${vmid} (${name})` : vmid,
      ...(kv['hwaddr'] ? { mac: kv['hwaddr'].toLowerCase() } : {}),
      ...(kv['bridge'] ? { bridge: fw ? `fwbr${vmid}i${n}` : kv['bridge'] } : {}),
      ifname: `veth${vmid}i${n}`,
      addresses,
      why: `Proxmox container ${vmid}${name ? ` (${name})` : ''} ${file} net${n}: ${v}`,
    });
  }
  return out;
}

export function readProxmoxGuests(root: string): GuestNic[] {
  const out: GuestNic[] = [];
  for (const [dir, parse] of [
    ['etc/pve/qemu-server', parseProxmoxVmConf],
    ['etc/pve/lxc', parseProxmoxLxcConf],
  ] as const) {
    let files: string[];
    try {
      files = readdirSync(join(root, dir))
        .filter((f) => /^\d+\.conf$/.test(f))
        .sort();
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        out.push(...parse(readFileSync(join(root, dir, f), 'utf8'), f.replace(/\.conf$/, ''), join('/', dir, f)));
      } catch {
        // pmxcfs can refuse reads while it has no quorum: this source is then skipped.
      }
    }
  }
  return out;
}
