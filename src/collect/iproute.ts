import type { Address, Counters, Interface, InterfaceKind, Neighbour, Peer, Route } from '../model/topology.js';
import { BridgePortStateSchema } from '../model/topology.js';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseJsonList, runIn, splitJsonDocuments, type CollectContext } from './context.js';

/**
 * The fields hopdump relies on, checked before anything reaches the model: `ip -j` output can come
 * from a guest (through its agent) or a container, which are not trusted. An entry that does not
 * fit is left out and counted (IpState.rejected), never passed on half-read. Interface names as
 * Linux allows them (1-15 characters, no '/', ':' or white space); addresses must be addresses.
 */
const IfnameSchema = z.string().regex(/^[^/:\s]{1,15}$/u);
const LinkSchema = z
  .object({
    ifindex: z.number().int().nonnegative(),
    ifname: IfnameSchema,
    flags: z.array(z.string()),
    mtu: z.number().int().nonnegative(),
    operstate: z.string(),
    address: z.string().optional(),
    master: IfnameSchema.optional(),
    addr_info: z
      .array(
        z
          .object({
            family: z.string(),
            local: z.string().optional(),
            prefixlen: z.number().int().min(0).max(128).optional(),
          })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();
const RouteSchema = z
  .object({
    dst: z.string(),
    gateway: z.string().optional(),
    dev: IfnameSchema.optional(),
    metric: z.number().optional(),
  })
  .passthrough();
const NeighSchema = z
  .object({
    dst: z.string().refine((a) => isIP(a) !== 0),
    dev: IfnameSchema,
    lladdr: z.string().optional(),
    state: z.array(z.string()).optional(),
  })
  .passthrough();
const NsidSchema = z.object({ nsid: z.number().int(), name: z.string().optional() }).passthrough();

function valid<T>(list: unknown, schema: z.ZodType, counter: { rejected: number }): T[] {
  if (!Array.isArray(list)) return [];
  const out: T[] = [];
  for (const item of list) {
    if (schema.safeParse(item).success) out.push(item as T);
    else counter.rejected++;
  }
  return out;
}

/** The subset of `ip -j -d -s link show` that hopdump reads. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  link_type?: string;
  address?: string;
  /** Only when the MAC was changed: the device's permanent (hardware) address. */
  permaddr?: string;
  master?: string;
  link?: string | null;
  link_index?: number;
  link_netnsid?: number;
  promiscuity?: number;
  txqlen?: number;
  parentbus?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
  stats64?: {
    rx: { bytes: number; packets: number; errors: number; dropped: number };
    tx: { bytes: number; packets: number; errors: number; dropped: number };
  };
}

interface IpAddr {
  ifindex: number;
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string; broadcast?: string }>;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  type?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
}

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

export interface IpState {
  links: IpLink[];
  addrs: Map<string, Address[]>;
  routes: Route[];
  neighbours: Neighbour[];
  nsids: Map<number, string | null>;
  /** Entries of ip's output that did not fit the schemas above and were left out. */
  rejected: number;
}

/**
 * Links (with details and counters) and addresses, routes, neighbours and
 * namespace ids in one `ip -batch` process: spawning is the dearest part of
 * discovery, so one ip per namespace instead of four.
 */
export async function ipState(ctx: CollectContext): Promise<IpState> {
  // With no -4/-6, `route show table all` dumps both families (iproute2 6.x).
  const commands = ['addr show', 'route show table all', 'neigh show', 'netns list-id'];
  const out = await runIn(
    ctx,
    ['ip', '-j', '-d', '-s', '-force', '-batch', '-'],
    undefined,
    `${commands.join('\n')}\n`,
  );
  return parseIpBatch(out);
}

/** The four JSON documents of ipState's batch, validated (exported for tests of hostile output). */
export function parseIpBatch(out: string): IpState {
  const docs = splitJsonDocuments(out, 'ip -j -batch');
  const counter = { rejected: 0 };
  const links = valid<IpLink & IpAddr>(docs[0], LinkSchema, counter);
  const routes = valid<IpRoute>(docs[1], RouteSchema, counter);
  const neigh = valid<IpNeigh>(docs[2], NeighSchema, counter);
  const ids = valid<{ nsid: number; name?: string }>(docs[3], NsidSchema, counter);
  return {
    links,
    addrs: addressesOf(links, counter),
    routes: toRoutes(routes, counter),
    neighbours: neigh.map((n) => ({
      dst: n.dst,
      dev: n.dev,
      state: n.state ?? [],
      ...(n.lladdr ? { lladdr: n.lladdr } : {}),
    })),
    nsids: new Map(ids.map((e) => [e.nsid, e.name ?? null])),
    rejected: counter.rejected,
  };
}

/**
 * Links with their counters and details (`ip -j -s -d link show`: promiscuity, bridge-port kind),
 * for sampling counters after a window and for watch's interval readings.
 */
export async function ipLinkCounters(ctx: CollectContext): Promise<IpLink[]> {
  return parseJsonList<IpLink>(await runIn(ctx, ['ip', '-j', '-s', '-d', 'link', 'show']), 'ip -j -s -d link show');
}

function addressesOf(list: IpAddr[], counter: { rejected: number }): Map<string, Address[]> {
  const byIf = new Map<string, Address[]>();
  for (const a of list) {
    const addrs: Address[] = [];
    for (const i of a.addr_info ?? []) {
      if (i.family !== 'inet' && i.family !== 'inet6') continue;
      if (isIP(i.local) !== (i.family === 'inet' ? 4 : 6) || !Number.isInteger(i.prefixlen)) {
        counter.rejected++;
        continue;
      }
      addrs.push({
        family: i.family,
        local: i.local,
        prefixlen: i.prefixlen,
        ...(i.scope ? { scope: i.scope } : {}),
        ...(i.broadcast ? { broadcast: i.broadcast } : {}),
      });
    }
    byIf.set(a.ifname, addrs);
  }
  return byIf;
}

function toRoutes(list: IpRoute[], counter: { rejected: number }): Route[] {
  const seen = new Set<string>();
  const routes: Route[] = [];
  for (const r of list) {
    const [net, len] = r.dst.split('/');
    const dstOk = r.dst === 'default' || (isIP(net ?? '') !== 0 && (len === undefined || /^\d{1,3}$/.test(len)));
    if (!dstOk || (r.gateway !== undefined && isIP(r.gateway) === 0)) {
      // Unreachable/multicast/broadcast routes with odd destinations are the host's own; a gateway must be an address.
      if (r.dst !== 'default' && !dstOk && r.type && r.type !== 'unicast') continue;
      counter.rejected++;
      continue;
    }
    const table = r.table ?? 'main';
    const family = r.dst.includes(':') || (r.gateway ?? '').includes(':') ? 'inet6' : 'inet';
    const key = `${family} ${table} ${r.type ?? 'unicast'} ${r.dst} ${r.dev ?? ''} ${r.gateway ?? ''} ${r.metric ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push({
      family,
      dst: r.dst === 'default' ? 'default' : withPrefix(r.dst, family),
      table,
      type: r.type ?? 'unicast',
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...(r.dev ? { dev: r.dev } : {}),
      ...(r.protocol ? { protocol: r.protocol } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
    });
  }
  return routes;
}

function withPrefix(dst: string, family: 'inet' | 'inet6'): string {
  return dst.includes('/') ? dst : `${dst}/${family === 'inet' ? 32 : 128}`;
}

/** Interface kind from the link's driver info, in the operator's words. */
export function kindOf(link: IpLink): { kind: InterfaceKind; info_kind?: string } {
  const infoKind = link.linkinfo?.info_kind;
  if (link.link_type === 'loopback') return { kind: 'loopback' };
  if (infoKind === undefined) {
    return { kind: link.link_type === 'ether' || link.parentbus ? 'physical' : 'other' };
  }
  if (infoKind === 'tun') {
    const type = link.linkinfo?.info_data?.['type'];
    return { kind: type === 'tun' ? 'tun' : 'tap', info_kind: infoKind };
  }
  const known: Record<string, InterfaceKind> = {
    veth: 'veth',
    bridge: 'bridge',
    macvlan: 'macvlan',
    macvtap: 'macvtap',
    ipvlan: 'ipvlan',
    vxlan: 'vxlan',
    geneve: 'geneve',
    vlan: 'vlan',
    bond: 'bond',
    dummy: 'dummy',
    ifb: 'ifb',
    openvswitch: 'openvswitch',
  };
  return { kind: known[infoKind] ?? 'other', info_kind: infoKind };
}

export function countersOf(link: IpLink): Counters | undefined {
  const s = link.stats64;
  if (!s) return undefined;
  return {
    rx_packets: s.rx.packets,
    rx_bytes: s.rx.bytes,
    rx_errors: s.rx.errors,
    rx_dropped: s.rx.dropped,
    tx_packets: s.tx.packets,
    tx_bytes: s.tx.bytes,
    tx_errors: s.tx.errors,
    tx_dropped: s.tx.dropped,
  };
}

/**
 * Builds the model's interface from ip's view. `sysfsFlags` is dev->flags from
 * /sys: ip's own `flags` list only shows PROMISC when a user asked for it
 * (dev->gflags), not when a packet socket such as tcpdump's or a bridge did.
 */
export function toInterface(
  link: IpLink,
  addresses: Address[],
  sysfsFlags: number | undefined,
  nsidNames: Map<number, string | null>,
  ownName: string | null,
  ifindexOf?: (ifname: string) => number | undefined,
): Interface {
  const { kind, info_kind } = kindOf(link);
  const IFF_PROMISC = 0x100;
  let peer: Peer | undefined;
  if (kind === 'veth' && link.link_index === undefined && link.link && ifindexOf) {
    // Both ends in this namespace (Neutron's qvb/qvo): iproute2 names the peer, without its index.
    const index = ifindexOf(link.link);
    if (index !== undefined) peer = { netns: ownName, ifindex: index, ifname: link.link };
  } else if (kind === 'veth' && link.link_index !== undefined) {
    if (link.link_netnsid !== undefined) {
      peer = {
        netns: nsidNames.get(link.link_netnsid) ?? null,
        link_netnsid: link.link_netnsid,
        ifindex: link.link_index,
      };
    } else {
      peer = { netns: ownName, ifindex: link.link_index, ...(link.link ? { ifname: link.link } : {}) };
    }
  }
  const lower =
    kind === 'macvlan' || kind === 'macvtap' || kind === 'ipvlan'
      ? lowerOf(link, nsidNames, ownName, ifindexOf)
      : undefined;
  const mode =
    lower || kind === 'macvlan' || kind === 'macvtap' || kind === 'ipvlan'
      ? link.linkinfo?.info_data?.['mode']
      : undefined;
  const slave = link.linkinfo?.info_slave_kind === 'bridge' ? link.linkinfo.info_slave_data : undefined;
  const portState = BridgePortStateSchema.safeParse(slave?.['state']);
  const counters = countersOf(link);
  return {
    ifindex: link.ifindex,
    ifname: link.ifname,
    kind,
    ...(info_kind ? { info_kind } : {}),
    ...(link.address ? { address: link.address } : {}),
    ...(link.permaddr ? { permaddr: link.permaddr } : {}),
    mtu: link.mtu,
    adminUp: link.flags.includes('UP'),
    operstate: link.operstate,
    carrier: link.flags.includes('LOWER_UP'),
    flags: link.flags,
    ...(sysfsFlags !== undefined ? { sysfsFlags } : {}),
    promisc: sysfsFlags !== undefined ? (sysfsFlags & IFF_PROMISC) !== 0 : link.flags.includes('PROMISC'),
    ...(link.promiscuity !== undefined ? { promiscuity: link.promiscuity } : {}),
    ...(link.master ? { master: link.master } : {}),
    ...(peer ? { peer } : {}),
    ...(lower ? { lower } : {}),
    ...(typeof mode === 'string' ? { mode } : {}),
    ...(slave
      ? {
          bridgePort: {
            state: portState.success ? portState.data : 'unknown',
            ...(typeof slave['cost'] === 'number' ? { cost: slave['cost'] } : {}),
            ...(typeof slave['priority'] === 'number' ? { priority: slave['priority'] } : {}),
          },
        }
      : {}),
    addresses,
    ...(counters ? { stats: counters } : {}),
    ...(link.txqlen !== undefined ? { txqlen: link.txqlen } : {}),
    ...(link.parentbus ? { parentbus: link.parentbus } : {}),
  };
}

/**
 * A macvlan/macvtap/ipvlan's lower device. iproute2 names it (`link`) when it
 * is in the same namespace, and gives its ifindex and the namespace's id
 * (`link_index`, `link_netnsid`) when the child was moved elsewhere (Docker's
 * macvlan networks, a container's ipvlan).
 */
function lowerOf(
  link: IpLink,
  nsidNames: Map<number, string | null>,
  ownName: string | null,
  ifindexOf?: (ifname: string) => number | undefined,
): Peer | undefined {
  if (link.link_netnsid !== undefined && link.link_index !== undefined) {
    return {
      netns: nsidNames.get(link.link_netnsid) ?? null,
      link_netnsid: link.link_netnsid,
      ifindex: link.link_index,
    };
  }
  const index = link.link_index ?? (link.link ? ifindexOf?.(link.link) : undefined);
  if (index === undefined) return undefined;
  return { netns: ownName, ifindex: index, ...(link.link ? { ifname: link.link } : {}) };
}
