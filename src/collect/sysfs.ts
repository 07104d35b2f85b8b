import type { Sysctls } from '../model/topology.js';
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
}

const PER_DEVICE = ['rp_filter', 'arp_ignore', 'arp_filter'] as const;

export async function readSysfs(ctx: CollectContext, ifnames: string[]): Promise<SysfsState> {
  const paths = [
    '/proc/sys/net/ipv4/ip_forward',
    '/proc/sys/net/ipv6/conf/all/forwarding',
    '/proc/sys/net/bridge/bridge-nf-call-iptables',
    '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
    '/proc/sys/net/bridge/bridge-nf-call-arptables',
  ];
  for (const dev of ['all', 'default', ...ifnames]) {
    for (const key of PER_DEVICE) paths.push(`/proc/sys/net/ipv4/conf/${dev}/${key}`);
  }
  // nsenter (unnamed namespaces) keeps the root's sysfs, so flags come from ip there.
  if (ctx.viaPid === undefined) for (const dev of ifnames) paths.push(`/sys/class/net/${dev}/flags`);
  // grep -H prints "path:value"; -s and exit 2 cover files that vanished meanwhile.
  const text = await runIn(ctx, ['grep', '-H', '-s', '.', ...paths], [0, 1, 2]);
  const flags = new Map<string, number>();
  const sysctls: Sysctls = { rp_filter: {}, arp_ignore: {}, arp_filter: {} };
  for (const line of text.split('\n')) {
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
    } else if (path === '/proc/sys/net/ipv6/conf/all/forwarding') {
      sysctls.ipv6_forwarding = Number(value);
    } else if ((m = path.match(/^\/proc\/sys\/net\/bridge\/bridge-nf-call-(iptables|ip6tables|arptables)$/))) {
      const key = `bridge_nf_call_${m[1]}` as 'bridge_nf_call_iptables';
      sysctls[key] = Number(value);
    }
  }
  return { flags, sysctls };
}
