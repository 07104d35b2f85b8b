import type { Listener, Sysctls } from '../model/topology.js';
import { runIn, type CollectContext } from './context.js';

/**
 * Reads dev->flags from /sys/class/net/IF/flags and the forwarding sysctls
 * from /proc/sys/net in one process per namespace. `ip netns exec` mounts a
 * sysfs of the namespace, and /proc/sys/net always shows the reader's
 * namespace, so both are right inside a namespace.
 */
export interface SysfsState {
  flags: Map<string, number>;
  sysctls: Sysctls;
  listeners: Listener[];
}

const PER_DEVICE = ['rp_filter', 'arp_ignore', 'arp_filter'] as const;

export async function readSysfs(ctx: CollectContext, ifnames: string[]): Promise<SysfsState> {
  const paths = [
    '/proc/sys/net/ipv4/ip_forward',
    '/proc/sys/net/ipv6/conf/all/forwarding',
    '/proc/sys/net/bridge/bridge-nf-call-iptables',
    '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
    '/proc/sys/net/bridge/bridge-nf-call-arptables',
    '/proc/sys/net/ipv4/icmp_echo_ignore_all',
    // The kernel's socket tables, also per namespace of the reader.
    '/proc/net/tcp',
    '/proc/net/tcp6',
  ];
  for (const dev of ['all', 'default', ...ifnames]) {
    for (const key of PER_DEVICE) paths.push(`/proc/sys/net/ipv4/conf/${dev}/${key}`);
  }
  // nsenter (unnamed namespaces) keeps the root's sysfs, so flags come from ip there.
  if (!ctx.netns?.startsWith('pid:')) for (const dev of ifnames) paths.push(`/sys/class/net/${dev}/flags`);
  // grep -H prints "path:value"; -s and exit 2 cover files that vanished meanwhile.
  const text = await runIn(ctx, ['grep', '-H', '-s', '.', ...paths], [0, 1, 2]);
  const flags = new Map<string, number>();
  const sysctls: Sysctls = { rp_filter: {}, arp_ignore: {}, arp_filter: {} };
  const listeners: Listener[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('/proc/net/tcp')) {
      const l = parseProcNetTcp(line);
      if (l) listeners.push(l);
      continue;
    }
    const colon = line.lastIndexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/sys\/class\/net\/(.+)\/flags$/))) {
      flags.set(m[1]!, Number.parseInt(value, 16));
    } else if ((m = path.match(/^\/proc\/sys\/net\/ipv4\/conf\/(.+)\/(rp_filter|arp_ignore|arp_filter)$/))) {
      sysctls[m[2] as (typeof PER_DEVICE)[number]][m[1]!] = Number(value);
    } else if (path === '/proc/sys/net/ipv4/ip_forward') {
      sysctls.ip_forward = Number(value);
    } else if (path === '/proc/sys/net/ipv4/icmp_echo_ignore_all') {
      sysctls.icmp_echo_ignore_all = Number(value);
    } else if (path === '/proc/sys/net/ipv6/conf/all/forwarding') {
      sysctls.ipv6_forwarding = Number(value);
    } else if ((m = path.match(/^\/proc\/sys\/net\/bridge\/bridge-nf-call-(iptables|ip6tables|arptables)$/))) {
      const key = `bridge_nf_call_${m[1]}` as 'bridge_nf_call_iptables';
      sysctls[key] = Number(value);
    }
  }
  return { flags, sysctls, listeners };
}

/**
 * One line of /proc/net/tcp{,6} as grep -H prints it; returns listeners only
 * (st 0A). Addresses are hex in host byte order per 32-bit word.
 */
export function parseProcNetTcp(line: string): Listener | undefined {
  const six = line.startsWith('/proc/net/tcp6:');
  const fields = line
    .slice(line.indexOf(':') + 1)
    .trim()
    .split(/\s+/);
  if (fields.length < 5 || fields[3] !== '0A') return undefined;
  const [addrHex, portHex] = fields[1]!.split(':') as [string, string];
  const rxq = fields[4]!.split(':')[1] ?? '0';
  return {
    family: six ? 'inet6' : 'inet',
    address: six ? hexToIpv6(addrHex) : hexToIpv4(addrHex),
    port: Number.parseInt(portHex, 16),
    acceptQueue: Number.parseInt(rxq, 16),
  };
}

function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function hexToIpv6(hex: string): string {
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    const bytes = [word.slice(6, 8), word.slice(4, 6), word.slice(2, 4), word.slice(0, 2)];
    groups.push(`${bytes[0]}${bytes[1]}`, `${bytes[2]}${bytes[3]}`);
  }
  const full = groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
  return full === '0:0:0:0:0:0:0:0' ? '::' : full.replace(/(^|:)0(:0)+(:|$)/, '::');
}
