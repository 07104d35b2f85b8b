import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import type { OvsDatapathStats, OvsFdbEntry, OvsFlow, OvsState } from '../model/topology.js';
import { runIn, splitJsonDocuments, type CollectContext } from './context.js';
import {
  daemonPath,
  fileIdentity,
  netnsIdentity,
  optionValues,
  ownerOf,
  pickSocket,
  scanDaemons,
  type DaemonProcess,
  type DaemonScan,
} from './daemons.js';

/** Where a packaged Open vSwitch keeps its sockets when OVS_RUNDIR is not set (Debian, Red Hat, Kolla). */
export const OVS_DEFAULT_RUNDIR = '/var/run/openvswitch';

/** ovsdb-server options that take their value as the next argument (so it is not a database file). */
const OVSDB_VALUE_OPTIONS = new Set([
  '--remote',
  '--unixctl',
  '--private-key',
  '--certificate',
  '--ca-cert',
  '--user',
  '--sync-from',
  '--run',
  '-p',
  '-c',
  '-C',
]);

/** The unix sockets an ovsdb-server listens on, as it was told: every `--remote=punix:PATH`. */
export function ovsdbSockets(argv: string[]): string[] {
  return optionValues(argv, ['--remote'])
    .filter((r) => r.startsWith('punix:'))
    .map((r) => r.slice('punix:'.length));
}

/** The database files on an ovsdb-server's command line (none = OVS_DBDIR/conf.db, Open_vSwitch's). */
export function ovsdbFiles(argv: string[]): string[] {
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (OVSDB_VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) files.push(a);
  }
  return files;
}

/**
 * The databases an ovsdb-server serves: the schema name at the head of each
 * file (a standalone or clustered database starts with a JSON record that
 * holds it), else the `db:NAME,...` references in its options, else the file
 * name (ovnnb_db.db, ovnsb_db.db); none on the command line = Open_vSwitch.
 */
export function ovsdbSchemas(d: DaemonProcess): string[] {
  const known = schemaMemo.get(d);
  if (known) return known;
  const found = readSchemas(d);
  schemaMemo.set(d, found);
  return found;
}

/** Per process of one scan: every namespace's collector asks, the files are read once. */
const schemaMemo = new WeakMap<DaemonProcess, string[]>();

function readSchemas(d: DaemonProcess): string[] {
  const files = ovsdbFiles(d.argv);
  if (files.length === 0) return ['Open_vSwitch'];
  const names = new Set<string>();
  for (const f of files) {
    const head = readHead(daemonPath(d, f));
    const m = head?.match(/"name":\s*"(\w+)"/);
    if (m) names.add(m[1]!);
    else if (/ovnnb/i.test(f)) names.add('OVN_Northbound');
    else if (/ovnsb/i.test(f)) names.add('OVN_Southbound');
    else if (/conf\.db$/.test(f)) names.add('Open_vSwitch');
  }
  if (names.size === 0) for (const m of d.argv.join(' ').matchAll(/\bdb:(\w+),/g)) names.add(m[1]!);
  return [...names];
}

/** The first 64 KiB of a database file (the schema record; a database can be large). */
function readHead(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** ovsdb-servers serving `schema`, each with its sockets as paths hopdump can open. */
export function ovsdbServers(scan: DaemonScan, schema: string): Array<{ process: DaemonProcess; sockets: string[] }> {
  return scan.processes
    .filter((p) => p.program === 'ovsdb-server' && ovsdbSchemas(p).includes(schema))
    .map((p) => ({ process: p, sockets: ovsdbSockets(p.argv).map((s) => daemonPath(p, s)) }));
}

export interface OvsEndpoints {
  /** unix:PATH of the Open_vSwitch database. */
  db: string;
  /** Where ovs-vswitchd keeps BRIDGE.mgmt (its OVS_RUNDIR). */
  rundir: string;
  /** ovs-vswitchd's control socket. */
  appctl?: string;
  /** How it was found, for messages: "OVS_RUNDIR", "default run directory", "ovsdb-server pid N". */
  source: string;
}

/**
 * Which Open vSwitch serves a namespace, as ovs-vsctl would be pointed at it:
 * OVS_RUNDIR (also with --netns), then the default run directory, then an
 * ovsdb-server found by its process (its --remote=punix: socket, read through
 * /proc/PID/root when it runs in another mount namespace). A socket whose
 * server was found counts only for the namespace that server runs in, so the
 * host's OVS is not taken for a namespace's and one namespace's for another.
 * None = no OVS here.
 */
export function findOvs(ctx: CollectContext): OvsEndpoints | undefined {
  const scan = ctx.daemons ?? scanDaemons();
  const root = ctx.discoveryRoot ?? !ctx.netns;
  const servers = ovsdbServers(scan, 'Open_vSwitch');
  const candidates: Array<{ socket: string; explicit?: boolean; owner?: DaemonProcess | undefined; source: string }> =
    [];
  const env = process.env['OVS_RUNDIR'];
  if (root && env) candidates.push({ socket: `${env}/db.sock`, explicit: true, source: 'OVS_RUNDIR' });
  candidates.push({ socket: `${OVS_DEFAULT_RUNDIR}/db.sock`, source: 'default run directory' });
  for (const s of servers)
    for (const socket of s.sockets)
      candidates.push({ socket, owner: s.process, source: `ovsdb-server pid ${s.process.pid}` });
  const existing = candidates
    .filter((c) => existsSync(c.socket))
    .map((c) => (c.owner || c.explicit ? c : { ...c, owner: ownerOf(c.socket, servers) }));
  const chosen = pickSocket(existing, netnsIdentity(ctx.netns), !ctx.netns);
  if (!chosen) return undefined;
  const vswitchd = vswitchdOf(scan, chosen.socket);
  if (vswitchd) return { db: `unix:${chosen.socket}`, ...vswitchd, source: chosen.source };
  const rundir = chosen.explicit ? env! : dirname(chosen.socket);
  const appctl = appctlTarget(rundir);
  return { db: `unix:${chosen.socket}`, rundir, ...(appctl ? { appctl } : {}), source: chosen.source };
}

/**
 * The ovs-vswitchd that uses the database at `socket` (its DATABASE argument,
 * default unix:RUNDIR/db.sock), with its run directory (its OVS_RUNDIR, else
 * the default) and control socket (--unixctl, relative to the run directory,
 * else RUNDIR/ovs-vswitchd.PID.ctl), all as paths hopdump can open.
 */
function vswitchdOf(scan: DaemonScan, socket: string): { rundir: string; appctl?: string } | undefined {
  const want = fileIdentity(socket);
  for (const p of scan.processes.filter((x) => x.program === 'ovs-vswitchd')) {
    const ownRundir = p.env['OVS_RUNDIR'] ?? OVS_DEFAULT_RUNDIR;
    const dbArg = ovsdbFiles(p.argv).find((a) => a.startsWith('unix:')) ?? `unix:${ownRundir}/db.sock`;
    if (fileIdentity(daemonPath(p, dbArg.slice('unix:'.length))) !== want) continue;
    const rundir = daemonPath(p, ownRundir);
    const unixctl = optionValues(p.argv, ['--unixctl'])[0];
    const ctl = unixctl
      ? daemonPath(p, isAbsolute(unixctl) ? unixctl : `${ownRundir}/${unixctl}`)
      : `${rundir}/ovs-vswitchd.${p.pid}.ctl`;
    return { rundir, ...(existsSync(ctl) ? { appctl: ctl } : {}) };
  }
  return undefined;
}

/** Which OVS database serves a namespace (see findOvs). None = no OVS. */
export function ovsDatabase(ctx: CollectContext): string | undefined {
  return findOvs(ctx)?.db;
}

interface OvsdbTable {
  data: unknown[][];
  headings: string[];
}

/** OVSDB JSON values: ["uuid", u], ["set", [...]], ["map", [[k, v]...]], or an atom. */
function atoms(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === 'set')
    return (v[1] as unknown[]).map((x) => (Array.isArray(x) && x[0] === 'uuid' ? (x[1] as unknown) : x));
  if (Array.isArray(v) && v[0] === 'uuid') return [v[1]];
  return [v];
}

function map(v: unknown): Record<string, string> {
  if (Array.isArray(v) && v[0] === 'map')
    return Object.fromEntries((v[1] as Array<[string, string]>).map(([k, val]) => [k, String(val)]));
  return {};
}

function one<T>(v: unknown): T | undefined {
  const a = atoms(v);
  return a.length === 1 ? (a[0] as T) : undefined;
}

function rows(t: OvsdbTable | undefined): Array<Record<string, unknown>> {
  if (!t) return [];
  return t.data.map((r) => Object.fromEntries(t.headings.map((h, i) => [h, r[i]])));
}

/** Bridges, their ports (tag, trunks) and interfaces (type, ofport, state, peer, external_ids), as JSON from OVSDB. */
export async function ovsState(ctx: CollectContext): Promise<OvsState | undefined> {
  const found = findOvs(ctx);
  if (!found) return undefined;
  const { db } = found;
  const out = await runIn(ctx, [
    'ovs-vsctl',
    `--db=${db}`,
    '--timeout=5',
    '--format=json',
    '--',
    '--columns=name,datapath_type,fail_mode,ports,mirrors',
    'list',
    'Bridge',
    '--',
    '--columns=_uuid,name,tag,trunks,other_config,external_ids,interfaces',
    'list',
    'Port',
    '--',
    '--columns=_uuid,name,type,ofport,link_state,admin_state,error,mac_in_use,options,external_ids',
    'list',
    'Interface',
    '--',
    '--columns=_uuid,name,select_all,select_src_port,select_dst_port,output_port,output_vlan',
    'list',
    'Mirror',
  ]);
  const [bridgesT, portsT, ifacesT, mirrorsT] = splitJsonDocuments(out, 'ovs-vsctl --format=json') as OvsdbTable[];
  const ifaces = new Map(
    rows(ifacesT).map((r) => [
      one<string>(r['_uuid']) ?? '',
      {
        name: String(r['name']),
        type: (typeof r['type'] === 'string' ? r['type'] : '') || 'system',
        ofport: one<number>(r['ofport']) ?? -1,
        ...(one<string>(r['link_state']) ? { link_state: one<string>(r['link_state'])! } : {}),
        ...(one<string>(r['admin_state']) ? { admin_state: one<string>(r['admin_state'])! } : {}),
        ...(one<string>(r['error']) ? { error: one<string>(r['error'])! } : {}),
        ...(one<string>(r['mac_in_use']) ? { mac_in_use: one<string>(r['mac_in_use'])! } : {}),
        options: map(r['options']),
        external_ids: map(r['external_ids']),
      },
    ]),
  );
  const ports = new Map(
    rows(portsT).map((r) => [
      one<string>(r['_uuid']) ?? '',
      {
        name: String(r['name']),
        ...(one<number>(r['tag']) !== undefined ? { tag: one<number>(r['tag'])! } : {}),
        trunks: atoms(r['trunks']).filter((x): x is number => typeof x === 'number'),
        other_config: map(r['other_config']),
        external_ids: map(r['external_ids']),
        interfaces: atoms(r['interfaces']).flatMap((u) => {
          const i = ifaces.get(String(u));
          return i ? [i] : [];
        }),
      },
    ]),
  );
  const portName = (u: unknown) => ports.get(String(u))?.name ?? String(u);
  const mirrors = new Map(
    rows(mirrorsT).map((r) => [
      one<string>(r['_uuid']) ?? '',
      {
        name: String(r['name']),
        select_all: r['select_all'] === true,
        select_src_port: atoms(r['select_src_port']).map(portName),
        select_dst_port: atoms(r['select_dst_port']).map(portName),
        ...(one<string>(r['output_port']) ? { output_port: portName(one<string>(r['output_port'])) } : {}),
        ...(one<number>(r['output_vlan']) !== undefined ? { output_vlan: one<number>(r['output_vlan'])! } : {}),
      },
    ]),
  );
  const { rundir, appctl } = found;
  const names = rows(bridgesT).map((r) => String(r['name']));
  const [flows, fdbs, stats] = await Promise.all([
    Promise.all(names.map((b) => ovsFlows(ctx, rundir, b).catch(() => []))),
    Promise.all(names.map((b) => (appctl ? ovsFdb(ctx, appctl, b).catch(() => []) : Promise.resolve([])))),
    appctl ? ovsDatapathStats(ctx, appctl).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return {
    db,
    rundir,
    ...(appctl ? { appctl } : {}),
    bridges: rows(bridgesT).map((r, i) => {
      const bridgePorts = atoms(r['ports'])
        .flatMap((u) => {
          const p = ports.get(String(u));
          return p ? [p] : [];
        })
        .sort((a, b) => (a.interfaces[0]?.ofport ?? 0) - (b.interfaces[0]?.ofport ?? 0));
      const byOfport = new Map(bridgePorts.flatMap((p) => p.interfaces.map((x) => [x.ofport, p.name] as const)));
      return {
        name: String(r['name']),
        datapath_type: (typeof r['datapath_type'] === 'string' ? r['datapath_type'] : '') || 'system',
        ...(one<string>(r['fail_mode']) ? { fail_mode: one<string>(r['fail_mode'])! } : {}),
        ports: bridgePorts,
        flows: flows[i] ?? [],
        fdb: (fdbs[i] ?? []).map((e) => ({
          ...e,
          port: e.ofport === 'LOCAL' ? String(r['name']) : (byOfport.get(e.ofport) ?? `ofport ${e.ofport}`),
        })),
        mirrors: atoms(r['mirrors']).flatMap((u) => {
          const m = mirrors.get(String(u));
          return m ? [m] : [];
        }),
      };
    }),
    ...(stats ? { stats } : {}),
  };
}

/**
 * ovs-vswitchd's control socket, as ovs-appctl finds it: RUNDIR/ovs-vswitchd.PID.ctl
 * from the pidfile (a packaged OVS), or RUNDIR/ovs-vswitchd.ctl (started with
 * --unixctl, as the lab does).
 */
export function appctlTarget(rundir: string): string | undefined {
  try {
    const pid = readFileSync(`${rundir}/ovs-vswitchd.pid`, 'utf8').trim();
    if (/^\d+$/.test(pid) && existsSync(`${rundir}/ovs-vswitchd.${pid}.ctl`))
      return `${rundir}/ovs-vswitchd.${pid}.ctl`;
  } catch {
    /* no pidfile */
  }
  return existsSync(`${rundir}/ovs-vswitchd.ctl`) ? `${rundir}/ovs-vswitchd.ctl` : undefined;
}

/** `ovs-appctl fdb/show BRIDGE`: " port  VLAN  MAC                Age" then one line per entry. */
export async function ovsFdb(
  ctx: CollectContext,
  appctl: string,
  bridge: string,
): Promise<Array<Omit<OvsFdbEntry, 'port'>>> {
  return parseFdbShow(await runIn(ctx, ['ovs-appctl', `--target=${appctl}`, '--timeout=5', 'fdb/show', bridge]));
}

export function parseFdbShow(text: string): Array<Omit<OvsFdbEntry, 'port'>> {
  const out: Array<Omit<OvsFdbEntry, 'port'>> = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(\d+|LOCAL)\s+(\d+)\s+([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s+(\d+|static)\s*$/i);
    if (!m) continue;
    out.push({
      ofport: m[1] === 'LOCAL' ? 'LOCAL' : Number(m[1]),
      vlan: Number(m[2]),
      mac: m[3]!.toLowerCase(),
      age: m[4] === 'static' ? 'static' : Number(m[4]),
    });
  }
  return out;
}

/** `dpctl/show` lookups per datapath and the drop counters of `coverage/show`. */
export async function ovsDatapathStats(ctx: CollectContext, appctl: string): Promise<OvsDatapathStats> {
  const [dp, cov] = await Promise.all([
    runIn(ctx, ['ovs-appctl', `--target=${appctl}`, '--timeout=5', 'dpctl/show']),
    runIn(ctx, ['ovs-appctl', `--target=${appctl}`, '--timeout=5', 'coverage/show']),
  ]);
  return parseDatapathStats(dp, cov);
}

export function parseDatapathStats(dpctl: string, coverage: string): OvsDatapathStats {
  const datapaths: OvsDatapathStats['datapaths'] = [];
  let current: string | undefined;
  for (const line of dpctl.split('\n')) {
    const head = line.match(/^(\S+):\s*$/);
    if (head) current = head[1]!;
    const m = line.match(/lookups: hit:(\d+) missed:(\d+) lost:(\d+)/);
    if (m && current) datapaths.push({ name: current, hit: Number(m[1]), missed: Number(m[2]), lost: Number(m[3]) });
  }
  const dropCounters: Record<string, number> = {};
  for (const line of coverage.split('\n')) {
    const m = line.match(/^(\w*drop\w*)\s+.*total: (\d+)\s*$/);
    if (m) dropCounters[m[1]!] = Number(m[2]);
  }
  return { datapaths, dropCounters };
}

/** A bridge's flows with their counters (`ovs-ofctl --names dump-flows` through its management socket). */
export async function ovsFlows(ctx: CollectContext, rundir: string, bridge: string): Promise<OvsFlow[]> {
  const out = await runIn(ctx, ['ovs-ofctl', '--names', '--timeout=5', 'dump-flows', `unix:${rundir}/${bridge}.mgmt`]);
  return parseFlows(out);
}

/** "cookie=0x0, duration=1.2s, table=0, n_packets=3, n_bytes=294, priority=100,ip,nw_dst=192.0.2.11 actions=drop" */
export function parseFlows(text: string): OvsFlow[] {
  const flows: OvsFlow[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*cookie=\S+ (.*) actions=(.*)$/);
    if (!m) continue;
    const fields = m[1]!.split(/,\s*/);
    const get = (k: string) => fields.find((f) => f.startsWith(`${k}=`))?.slice(k.length + 1);
    const skip =
      /^(duration|table|n_packets|n_bytes|idle_age|hard_age|idle_timeout|hard_timeout|priority|reset_counts|send_flow_rem|cookie)=/;
    flows.push({
      table: Number(get('table') ?? 0),
      priority: Number(get('priority') ?? 32768),
      match: fields.filter((f) => f && !skip.test(f)).join(','),
      actions: m[2]!.trim(),
      n_packets: Number(get('n_packets') ?? 0),
      n_bytes: Number(get('n_bytes') ?? 0),
    });
  }
  return flows;
}
