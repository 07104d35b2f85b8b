import type { Bridge, FdbEntry, Interface } from '../model/topology.js';
import { parseJsonList, runIn, type CollectContext } from './context.js';
import type { IpLink } from './iproute.js';

interface BridgeFdb {
  mac: string;
  ifname: string;
  master?: string;
  vlan?: number;
  state?: string;
  flags?: string[];
}

/** Learned and static entries of every bridge (entries with a master), by bridge name. */
export async function bridgeFdb(ctx: CollectContext): Promise<Map<string, FdbEntry[]>> {
  const list = parseJsonList<BridgeFdb>(await runIn(ctx, ['bridge', '-j', 'fdb', 'show']), 'bridge -j fdb show');
  const byBridge = new Map<string, FdbEntry[]>();
  for (const e of list) {
    if (!e.master) continue; // "self" entries are the ports' own multicast filters
    const entries = byBridge.get(e.master) ?? [];
    entries.push({
      mac: e.mac,
      ifname: e.ifname,
      flags: e.flags ?? [],
      ...(e.vlan !== undefined ? { vlan: e.vlan } : {}),
      ...(e.state ? { state: e.state } : { state: 'learned' }),
    });
    byBridge.set(e.master, entries);
  }
  return byBridge;
}

/** Bridge devices with STP settings (from `ip -d link`), their ports and FDB. */
export function bridgesOf(links: IpLink[], interfaces: Interface[], fdb: Map<string, FdbEntry[]>): Bridge[] {
  const bridges: Bridge[] = [];
  for (const link of links) {
    if (link.linkinfo?.info_kind !== 'bridge') continue;
    const data = link.linkinfo.info_data ?? {};
    const stpState = Number(data['stp_state'] ?? 0);
    bridges.push({
      ifname: link.ifname,
      stp: stpState !== 0,
      stp_state: stpState,
      // ip -d prints forward_delay in centiseconds (clock_t, USER_HZ 100).
      forward_delay: Number(data['forward_delay'] ?? 0) / 100,
      vlan_filtering: Number(data['vlan_filtering'] ?? 0) === 1,
      ports: interfaces
        .filter((i) => i.master === link.ifname)
        .map((i) => ({ ifname: i.ifname, state: i.bridgePort?.state ?? 'unknown' })),
      fdb: fdb.get(link.ifname) ?? [],
    });
  }
  return bridges;
}
