import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { GuestNic } from '../../model/guests.js';

/**
 * Incus and LXD instances from their on-disk state, without asking the
 * daemon: each instance's storage volume holds a backup.yaml that the daemon
 * rewrites on every config change (Incus internal/server/backup/config:
 * `container:` is the api.Instance, for virtual machines too). What matters
 * here is `expanded_devices` (profiles applied): a `type: nic` device has
 * `nictype: bridged` + `parent` or `network` (a managed bridge network is
 * named as its bridge), `hwaddr`, `ipv4.address`/`ipv6.address` (static
 * DHCP assignments on a managed network, the routes of a routed NIC) and
 * `host_name`; and `expanded_config`'s `volatile.DEVICE.hwaddr` (the MAC the
 * daemon generated) and `volatile.DEVICE.host_name` (the host-side veth/tap
 * while the instance runs).
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** NIC types whose host side is a port of a bridge. */
const BRIDGED = new Set(['bridged', undefined]);

export function parseIncusBackup(text: string, platform: 'Incus' | 'LXD', file: string): GuestNic[] {
  const doc: unknown = parse(text);
  const inst = isObj(doc) ? (doc['container'] ?? doc['instance']) : undefined;
  if (!isObj(inst)) return [];
  const name = str(inst['name']);
  const project = str(inst['project']);
  const label = project && project !== 'default' ? `${project}/${name}` : name;
  const kind = inst['type'] === 'virtual-machine' ? 'VM' : 'container';
  const config = isObj(inst['expanded_config']) ? inst['expanded_config'] : isObj(inst['config']) ? inst['config'] : {};
  const devices = isObj(inst['expanded_devices'])
    ? inst['expanded_devices']
    : isObj(inst['devices'])
      ? inst['devices']
      : {};
  const out: GuestNic[] = [];
  for (const dev of Object.keys(devices).sort()) {
    const d = devices[dev];
    if (!isObj(d) || d['type'] !== 'nic') continue;
    const nictype = str(d['nictype']);
    const network = str(d['network']);
    const parent = str(d['parent']);
    const mac = [str(d['hwaddr']), str(config[`volatile.${dev}.hwaddr`])].find((m) => m && MAC.test(m))?.toLowerCase();
    const hostName = str(d['host_name']) ?? str(config[`volatile.${dev}.host_name`]);
    const addresses = [str(d['ipv4.address']), str(d['ipv6.address'])]
      .flatMap((a) => (a ? a.split(/[,\s]+/) : []))
      .filter((a) => a !== '' && a !== 'none')
      .map((a) => a.replace(/\/\d+$/, ''));
    // A managed network's NIC has no nictype: the network is then a bridge (or an OVN one,
    // whose host side is an OVS port; its name is still the NIC's host_name).
    const bridge = BRIDGED.has(nictype) ? (parent ?? network) : undefined;
    out.push({
      source: 'incus',
      ...(label ? { name: label } : {}),
      ...(mac ? { mac } : {}),
      ...(bridge ? { bridge } : {}),
      ...(hostName ? { ifname: hostName } : {}),
      addresses,
      why: `${platform} ${kind} ${label ?? '?'} ${file} device ${dev}: ${[
        nictype ? `nictype ${nictype}` : undefined,
        network && `network ${network}`,
        parent && `parent ${parent}`,
        mac && `hwaddr ${mac}`,
        hostName && `host_name ${hostName}`,
        addresses.length ? `address ${addresses.join(' ')}` : undefined,
      ]
        .filter(Boolean)
        .join(', ')}`,
    });
  }
  return out;
}

/**
 * Where each daemon keeps its instances: Incus, the LXD snap, and LXD from
 * distribution packages. `containers/NAME` and `virtual-machines/NAME` are
 * symlinks into the storage pool's mount (`PROJECT_NAME` outside the default
 * project); an unmounted pool (a stopped instance on ZFS, LVM, Ceph) has no
 * backup.yaml there and is skipped.
 */
const INCUS_DIRS: Array<[string, 'Incus' | 'LXD']> = [
  ['var/lib/incus', 'Incus'],
  ['var/snap/lxd/common/lxd', 'LXD'],
  ['var/lib/lxd', 'LXD'],
];

export function readIncusGuests(root: string, warnings: string[]): GuestNic[] {
  const out: GuestNic[] = [];
  for (const [dir, platform] of INCUS_DIRS) {
    for (const sub of ['containers', 'virtual-machines']) {
      let names: string[];
      try {
        names = readdirSync(join(root, dir, sub)).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        let text: string;
        try {
          text = readFileSync(join(root, dir, sub, name, 'backup.yaml'), 'utf8');
        } catch {
          continue;
        }
        const file = join('/', dir, sub, name, 'backup.yaml');
        try {
          out.push(...parseIncusBackup(text, platform, file));
        } catch (err) {
          // One unreadable instance (a file being rewritten) does not hide the others.
          warnings.push(
            `${platform} ${file} could not be parsed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          );
        }
      }
    }
  }
  return out;
}
