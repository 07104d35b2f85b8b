import type { FdbEntry } from '../model/topology.js';
import { hostname } from 'node:os';
import { environmentError, HopdumpError } from '../errors.js';
import type { Host } from '../host/host.js';
import type { Interface, Namespace, Topology } from '../model/topology.js';
import { bridgeFdb, bridgesOf } from './bridge.js';
import { runIn, splitJsonDocuments, type CollectContext } from './context.js';
import { countersOf, ipLinkCounters, ipState, toInterface } from './iproute.js';
import { dockerConnection, joinContainers, readDocker } from './docker.js';
import { joinPodman, readPodman } from './podman.js';
import { netnsIdentity, scanDaemons, type DaemonScan } from './daemons.js';
import { unnamedNamespacePids } from './namespaces.js';
import { firewall } from './netfilter.js';
import { discoverDomains, libvirtConnection } from './domains.js';
import { guestView } from './guest-agent.js';
import { hostRoot, placeGuests, readGuests } from './guests/index.js';
import { ovsState } from './ovs.js';
import { readSysfs } from './sysfs.js';
import { tcFilters, tcQdiscs } from './tc.js';

export interface DiscoverOptions {
  host: Host;
  /** A named namespace that stands in for the host's root namespace (the lab's hypervisor). */
  netns?: string;
  /** Also enter namespaces known only through their processes (root mode only). Default true. */
  unnamed?: boolean;
  /**
   * The directory guest sources (QEMU's /proc, libvirt's, Proxmox VE's and
   * LXC's files) are read under; default HOPDUMP_HOST_ROOT, else "/".
   */
  hostRoot?: string;
}

/** Bound on how many namespaces one discovery walks, against pathological hosts. */
const MAX_NAMESPACES = 512;
/** Namespaces read at the same time: each is five or six programs, and the machine has few cores. */
const PARALLEL_NAMESPACES = 6;

/** Runs `fn` over `items` with at most `limit` in flight, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Builds the topology model: the root namespace (or `netns`), then every
 * namespace reachable from it. In root mode that is every named namespace and
 * every unnamed one with a process in it; in netns mode it is the namespaces
 * its veth peers lead to, transitively.
 */
export async function discover(options: DiscoverOptions): Promise<Topology> {
  const warnings: string[] = [];
  // Which daemons run (OVS, Docker, libvirt): one walk of /proc for the whole discovery.
  const daemons = scanDaemons();
  const namespaces = options.netns
    ? await fromNamespace(options, options.netns, daemons, warnings)
    : await wholeHost(options, daemons, warnings);
  linkPeers(namespaces);
  linkLowers(namespaces);
  addUnreachedNamespaces(namespaces);
  const platforms = await readPlatforms(options, namespaces, daemons, warnings);
  // A firewall that could not be read (or read as garbage) must not pass for one without rules.
  for (const ns of namespaces)
    for (const e of ns.firewall?.errors ?? []) warnings.push(`firewall of ${ns.id} not read: ${e}`);
  return {
    schemaVersion: 1,
    host: hostname(),
    collectedAt: new Date().toISOString(),
    root: options.netns ?? '',
    namespaces,
    ...platforms,
    warnings,
  };
}

/**
 * --netns: the namespace that stands in for the host and every namespace its veths lead to,
 * found by following peers (a quick link dump each, so every full collection starts as soon as
 * its namespace is known), then macvlan children moved elsewhere, then unnamed namespaces that
 * link to a loose end.
 */
async function fromNamespace(
  options: DiscoverOptions,
  root: string,
  daemons: DaemonScan,
  warnings: string[],
): Promise<Namespace[]> {
  const { host } = options;
  await host.requireNetns(root);
  const seen = new Set<string>([root]);
  // Collected while the walk goes on, awaited together at the end: each one is marked handled at
  // once, so that one that fails early (the root, entered without CAP_SYS_ADMIN) is not an
  // unhandled rejection while the walk is still awaiting (Node ends the process on one).
  const pending: Array<Promise<Namespace>> = [];
  const collect = (p: Promise<Namespace>) => {
    p.catch(() => undefined);
    pending.push(p);
  };
  collect(collectNamespace({ host, netns: root, daemons, discoveryRoot: true }, root, root, true, warnings));
  let frontier = [root];
  let childScanDone = false;
  while (frontier.length > 0 && seen.size < MAX_NAMESPACES) {
    const next: string[] = [];
    const peerLists = await Promise.all(frontier.map((ns) => peerNamespaces({ host, netns: ns }).catch(() => [])));
    for (const name of peerLists.flat()) {
      if (seen.has(name) || seen.size >= MAX_NAMESPACES) continue;
      seen.add(name);
      next.push(name);
      collect(collectNamespace({ host, netns: name, daemons }, name, name, false, warnings));
    }
    frontier = next;
    if (frontier.length === 0 && !childScanDone) {
      // macvlan/ipvlan children moved into other namespaces (a Docker macvlan network's
      // containers): their lower device here does not name them, so they are found from
      // their side, named or (containers) unnamed.
      childScanDone = true;
      const children = (await childNamespaces(host, seen, options.unnamed !== false).catch(() => [])).filter(
        (n) => !seen.has(n.id),
      );
      for (const child of children.slice(0, MAX_NAMESPACES - seen.size)) {
        seen.add(child.id);
        frontier.push(child.netns);
        collect(collectNamespace({ host, netns: child.netns }, child.id, child.name, false, warnings));
      }
    }
  }
  const namespaces = await Promise.all(pending);
  if (options.unnamed !== false) namespaces.push(...(await linkedUnnamed(host, namespaces, daemons, warnings)));
  return namespaces;
}

/**
 * Peers in namespaces without a name (a container started inside the hypervisor namespace): found
 * through their processes; kept when they link up with one of `namespaces`' loose ends.
 */
async function linkedUnnamed(
  host: Host,
  namespaces: Namespace[],
  daemons: DaemonScan,
  warnings: string[],
): Promise<Namespace[]> {
  if (!namespaces.some((ns) => ns.interfaces.some((i) => i.peer && i.peer.netns === null))) return [];
  // ifindexes are per namespace: two hypervisor namespaces' containers can have the same ones.
  // A container is ours when its veth pairs with one of our loose ends in both
  // directions, and (where it can name it) its peer's namespace is one of ours.
  const ends = new Map<string, string>();
  for (const ns of namespaces) {
    for (const i of ns.interfaces) if (i.peer?.netns === null) ends.set(`${i.peer.ifindex}:${i.ifindex}`, ns.id);
  }
  // First only each unnamed namespace's links (one `ip -j link show`), then the whole of the
  // ones whose veth pairs with a loose end here: a host with hundreds of containers (or a test
  // suite running many labs) made the full collection of every one of them slow enough, under
  // load, to lose the container that mattered.
  const candidates = (
    await mapLimited(unnamedNamespacePids(), PARALLEL_NAMESPACES, async (entry) => {
      const r = await host
        .run(['ip', '-j', 'link', 'show'], { netns: `pid:${entry.pid}`, okCodes: 'any' })
        .catch(() => undefined);
      let links: Array<{ ifindex?: number; link_index?: number }> = [];
      try {
        links = r && r.code === 0 ? (JSON.parse(r.stdout) as typeof links) : [];
      } catch {
        links = [];
      }
      // Unreadable: kept as a candidate (the full collection decides), never silently dropped.
      const pairs = r && r.code === 0 ? links.some((l) => ends.has(`${l.ifindex}:${l.link_index}`)) : true;
      return pairs ? entry : undefined;
    })
  ).filter((c): c is { pid: number; inode: string } => c !== undefined);
  const extra = await mapLimited(candidates, PARALLEL_NAMESPACES, async ({ pid, inode }) => {
    const ns = await collectNamespace({ host, netns: `pid:${pid}`, daemons }, `pid:${pid}`, null, false, []);
    if (ns.collected !== false) return ns;
    // The process it was entered through may have ended since /proc was read (a short-lived
    // process in a container): once more through the namespace's oldest process now. A
    // namespace that is gone with it is left out without a word (a container that stopped).
    const other = unnamedNamespacePids().find((c) => c.inode === inode && c.pid !== pid);
    if (!other) return ns;
    const id = `pid:${other.pid}`;
    return collectNamespace({ host, netns: id, daemons }, id, null, false, warnings);
  });
  const found: Namespace[] = [];
  for (const ns of extra) {
    const linked = ns.interfaces.some((i) => {
      if (!i.peer) return false;
      const end = ends.get(`${i.ifindex}:${i.peer.ifindex}`);
      return end !== undefined && (i.peer.netns === null || i.peer.netns === end);
    });
    if (linked && !namespaces.some((n) => n.id === ns.id) && !found.some((n) => n.id === ns.id)) found.push(ns);
  }
  return found;
}

/** Without --netns: the root namespace, every named one and (unless told not to) every unnamed one. */
async function wholeHost(options: DiscoverOptions, daemons: DaemonScan, warnings: string[]): Promise<Namespace[]> {
  const { host } = options;
  const named = await host.listNetns();
  const jobs: Array<{ id: string; netns: string | undefined; name: string | null; isRoot: boolean }> = [
    { id: 'host', netns: undefined, name: null, isRoot: true },
    ...named.map((name) => ({ id: name, netns: name, name, isRoot: false })),
    ...(options.unnamed !== false
      ? unnamedNamespacePids().map(({ pid }) => ({ id: `pid:${pid}`, netns: `pid:${pid}`, name: null, isRoot: false }))
      : []),
  ];
  if (jobs.length > MAX_NAMESPACES) warnings.push(`stopped after ${MAX_NAMESPACES} namespaces`);
  return mapLimited(jobs.slice(0, MAX_NAMESPACES), PARALLEL_NAMESPACES, (j) =>
    collectNamespace({ host, netns: j.netns, daemons, discoveryRoot: j.isRoot }, j.id, j.name, j.isRoot, warnings),
  );
}

/**
 * What the platforms say about the namespaces: libvirt's domains (and the guests seen through
 * their agents, added as namespaces), Docker's and Podman's containers and networks, and the
 * guests their own files describe. Each is optional: a platform that cannot be read is a warning.
 */
async function readPlatforms(
  options: DiscoverOptions,
  namespaces: Namespace[],
  daemons: DaemonScan,
  warnings: string[],
): Promise<Partial<Topology>> {
  const { host } = options;
  const rootNs = namespaces.find((n) => n.isRoot);
  const libvirt = rootNs
    ? await discoverDomains(host, options.netns, rootNs, daemons).catch((err: unknown) => {
        warnings.push(`libvirt could not be read: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      })
    : undefined;
  if (libvirt) {
    namespaces.push(...libvirt.guests);
    warnings.push(...libvirt.warnings);
  }
  const dockerConn = dockerConnection(options.netns, daemons);
  const docker = dockerConn
    ? await readDocker(dockerConn).catch((err: unknown) => {
        warnings.push(
          `Docker Engine at ${dockerConn.endpoint} could not be read: ${err instanceof Error ? err.message : String(err)}`,
        );
        return undefined;
      })
    : undefined;
  if (docker) joinContainers(docker, namespaces);
  // Podman's own networks and containers (it has no daemon): unless the Engine asked above is
  // Podman's Docker-compatible service, which already lists them.
  const podmanRead =
    dockerConn && /podman/i.test(dockerConn.source)
      ? undefined
      : readPodman(daemons, warnings, options.netns ? { netnsIdentity: netnsIdentity(options.netns) } : {});
  if (podmanRead) joinPodman(podmanRead, namespaces);
  // Guests as their platforms describe them: what a silent guest's address is resolved with.
  const explicitRoot = options.hostRoot ?? process.env['HOPDUMP_HOST_ROOT'];
  const guests = placeGuests(
    readGuests(hostRoot(options.hostRoot), warnings),
    namespaces,
    !options.netns,
    !options.netns || explicitRoot !== undefined,
  );
  return {
    ...(libvirt ? { domains: libvirt.domains } : {}),
    ...(docker ? { docker } : {}),
    ...(podmanRead ? { podman: podmanRead.state } : {}),
    ...(guests.length ? { guests } : {}),
  };
}

/** Names of the namespaces this one's veths lead to (`ip -j link` + `ip netns list-id`). */
async function peerNamespaces(ctx: CollectContext): Promise<string[]> {
  const out = await runIn(ctx, ['ip', '-j', '-force', '-batch', '-'], undefined, 'link show\nnetns list-id\n');
  const [links, ids] = splitJsonDocuments(out, 'ip -j -batch') as [
    Array<{ link_netnsid?: number }>?,
    Array<{ nsid: number; name?: string }>?,
  ];
  const names = new Map((ids ?? []).map((e) => [e.nsid, e.name]));
  const wanted = new Set((links ?? []).map((l) => l.link_netnsid).filter((x): x is number => x !== undefined));
  return [...wanted].map((id) => names.get(id)).filter((n): n is string => typeof n === 'string');
}

/**
 * Namespaces, other than `ours`, holding a macvlan, macvtap or ipvlan whose
 * lower device is in one of `ours` (by the name its link_netnsid has there):
 * named ones, and with `unnamed` those entered through a process (Docker's
 * containers on a macvlan network). One quick `ip -j -d link` each.
 */
async function childNamespaces(
  host: Host,
  ours: Set<string>,
  unnamed: boolean,
): Promise<Array<{ id: string; netns: string; name: string | null }>> {
  const candidates = [
    ...(await host.listNetns()).filter((n) => !ours.has(n)).map((n) => ({ id: n, netns: n, name: n })),
    ...(unnamed
      ? unnamedNamespacePids().map(({ pid }) => ({ id: `pid:${pid}`, netns: `pid:${pid}`, name: null }))
      : []),
  ].filter((c) => !ours.has(c.id));
  const found = await mapLimited(candidates, PARALLEL_NAMESPACES, async (c) => {
    const out = await runIn(
      { host, netns: c.netns },
      ['ip', '-j', '-d', '-force', '-batch', '-'],
      undefined,
      'link show\nnetns list-id\n',
    ).catch(() => '');
    if (!out) return false;
    const [links, ids] = splitJsonDocuments(out, 'ip -j -batch') as [
      Array<{ link_netnsid?: number; linkinfo?: { info_kind?: string } }>?,
      Array<{ nsid: number; name?: string }>?,
    ];
    const names = new Map((ids ?? []).map((e) => [e.nsid, e.name]));
    return (links ?? []).some(
      (l) =>
        ['macvlan', 'macvtap', 'ipvlan'].includes(l.linkinfo?.info_kind ?? '') &&
        l.link_netnsid !== undefined &&
        ours.has(names.get(l.link_netnsid) ?? ''),
    );
  });
  return candidates.filter((_, i) => found[i]);
}

async function collectNamespace(
  ctx: CollectContext,
  id: string,
  name: string | null,
  isRoot: boolean,
  warnings: string[],
): Promise<Namespace> {
  const viaPid = ctx.netns?.match(/^pid:(\d+)$/)?.[1];
  const base = { id, name, isRoot, ...(viaPid ? { enteredVia: `nsenter --net=/proc/${viaPid}/ns/net` } : {}) };
  try {
    const [{ links, addrs, routes, neighbours, nsids, rejected }, qdiscs, fw, ovs] = await Promise.all([
      ipState(ctx),
      tcQdiscs(ctx),
      firewall(ctx),
      ovsState(ctx).catch((err: unknown) => {
        warnings.push(`Open vSwitch in ${id} could not be read: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }),
    ]);
    if (rejected)
      warnings.push(`ip -j in ${id}: ${rejected} entries that are not interfaces, addresses or routes were left out`);
    // Only asked when there is something to ask about.
    const [sys, filters, fdb] = await Promise.all([
      readSysfs(
        ctx,
        links.map((l) => l.ifname),
      ),
      tcFilters(ctx, qdiscs),
      links.some((l) => l.linkinfo?.info_kind === 'bridge')
        ? bridgeFdb(ctx)
        : Promise.resolve(new Map<string, FdbEntry[]>()),
    ]);
    const ovsPortOf = new Map<string, string>();
    for (const br of ovs?.bridges ?? [])
      for (const p of br.ports) for (const i of p.interfaces) ovsPortOf.set(i.name, br.name);
    const ifindexByName = new Map(links.map((l) => [l.ifname, l.ifindex]));
    const interfaces: Interface[] = links.map((l) => {
      const iface = toInterface(l, addrs.get(l.ifname) ?? [], sys.flags.get(l.ifname), nsids, id, (n) =>
        ifindexByName.get(n),
      );
      const bridge = ovsPortOf.get(l.ifname);
      return bridge ? { ...iface, ovsBridge: bridge } : iface;
    });
    return {
      ...base,
      collected: true,
      interfaces,
      bridges: bridgesOf(links, interfaces, fdb),
      routes,
      neighbours,
      sysctls: sys.sysctls,
      listeners: sys.listeners,
      qdiscs,
      tcFilters: filters,
      firewall: fw,
      ...(ovs ? { ovs } : {}),
    };
  } catch (err) {
    // The root namespace is the job; a namespace that vanished meanwhile is a warning.
    if (isRoot) {
      if (err instanceof HopdumpError) throw err;
      throw environmentError(`could not read namespace ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    warnings.push(`namespace ${id} could not be read: ${err instanceof Error ? err.message : String(err)}`);
    return { ...base, collected: false, interfaces: [], bridges: [], routes: [], neighbours: [] };
  }
}

/**
 * Resolves every veth peer to the namespace id and name of its other end. A
 * veth pair is symmetric: A(ifindex a, peer b) in one namespace and
 * B(ifindex b, peer a) in the other, which finds peers whose namespace the
 * link_netnsid could not name (e.g. the unnamed root seen from a guest).
 */
export function linkPeers(namespaces: Namespace[]): void {
  const byId = new Map(namespaces.map((n) => [n.id, n]));
  for (const ns of namespaces) {
    for (const iface of ns.interfaces) {
      const peer = iface.peer;
      if (!peer) continue;
      let target: Interface | undefined;
      if (peer.netns !== null && byId.has(peer.netns)) {
        target = byId.get(peer.netns)!.interfaces.find((i) => i.ifindex === peer.ifindex);
      }
      if (!target) {
        for (const other of namespaces) {
          if (other === ns && peer.link_netnsid !== undefined) continue;
          const candidate = other.interfaces.find(
            (i) => i.ifindex === peer.ifindex && i.kind === 'veth' && i.peer?.ifindex === iface.ifindex && i !== iface,
          );
          if (candidate) {
            target = candidate;
            peer.netns = other.id;
            break;
          }
        }
      }
      if (target) peer.ifname = target.ifname;
    }
  }
}

/**
 * Resolves the lower device of every macvlan, macvtap and ipvlan: by the
 * namespace its link_netnsid names, else (an unnamed root namespace seen from
 * a container) the root namespace when it has a device of that ifindex.
 */
export function linkLowers(namespaces: Namespace[]): void {
  const byId = new Map(namespaces.map((n) => [n.id, n]));
  const root = namespaces.find((n) => n.isRoot);
  for (const ns of namespaces) {
    for (const iface of ns.interfaces) {
      const lower = iface.lower;
      if (!lower) continue;
      let where = lower.netns !== null ? byId.get(lower.netns) : undefined;
      if (
        !where &&
        root &&
        root !== ns &&
        root.interfaces.some((i) => i.ifindex === lower.ifindex && i.kind !== 'loopback')
      )
        where = root;
      const dev = where?.interfaces.find((i) => i.ifindex === lower.ifindex);
      if (where && dev) {
        lower.netns = where.id;
        lower.ifname = dev.ifname;
      }
    }
  }
}

/**
 * Namespaces known only by the id a veth peer carries (link_netnsid), that
 * hopdump could not enter: listed so that the peer has somewhere to point.
 */
function addUnreachedNamespaces(namespaces: Namespace[]): void {
  for (const ns of [...namespaces]) {
    for (const iface of ns.interfaces) {
      const peer = iface.peer;
      if (!peer || peer.netns !== null || peer.link_netnsid === undefined) continue;
      const id = `${ns.id}:nsid:${peer.link_netnsid}`;
      peer.netns = id;
      if (namespaces.some((n) => n.id === id)) continue;
      namespaces.push({
        id,
        name: null,
        isRoot: false,
        ...(ns.isRoot ? { nsid: peer.link_netnsid } : {}),
        collected: false,
        interfaces: [],
        bridges: [],
        routes: [],
        neighbours: [],
      });
    }
  }
}

/**
 * The counters of a topology's namespaces read again (interface statistics,
 * qdisc drops, firewall rule counters): what checks compare before and after
 * a window. Cheaper than a full discovery: three or four programs a namespace.
 */
export async function sampleCounters(host: Host, topology: Topology): Promise<Topology> {
  const daemons: DaemonScan = scanDaemons();
  const namespaces = await Promise.all(
    topology.namespaces.map(async (ns): Promise<Namespace> => {
      if (!ns.collected) return ns;
      if (ns.id.startsWith('guest:')) {
        // A libvirt guest: read again through its agent (its firewall counters).
        const uri = libvirtConnection(topology.root || undefined, daemons)?.uri;
        return guestView(host, uri, ns.id.slice('guest:'.length), { timeoutMs: 8000 })
          .then((g) => {
            const stats = new Map(g.interfaces.map((x) => [x.ifname, x.stats]));
            return {
              ...ns,
              interfaces: ns.interfaces.map((i) => (stats.get(i.ifname) ? { ...i, stats: stats.get(i.ifname)! } : i)),
              firewall: g.firewall ?? ns.firewall,
            };
          })
          .catch(() => ns);
      }
      const ctx: CollectContext = {
        host,
        netns: ns.name ?? (ns.id.startsWith('pid:') ? ns.id : undefined),
        daemons,
        discoveryRoot: ns.isRoot,
      };
      try {
        const [links, qdiscs, fw, ovs] = await Promise.all([
          ipLinkCounters(ctx),
          tcQdiscs(ctx),
          firewall(ctx),
          ns.ovs ? ovsState(ctx).catch(() => ns.ovs) : Promise.resolve(undefined),
        ]);
        const byName = new Map(links.map((l) => [l.ifname, l]));
        return {
          ...ns,
          interfaces: ns.interfaces.map((i) => {
            const l = byName.get(i.ifname);
            const stats = l ? countersOf(l) : undefined;
            return stats ? { ...i, stats } : i;
          }),
          qdiscs,
          firewall: fw,
          ...(ovs ? { ovs } : {}),
        };
      } catch {
        return { ...ns, collected: false };
      }
    }),
  );
  return { ...topology, collectedAt: new Date().toISOString(), namespaces };
}
