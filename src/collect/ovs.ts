import { existsSync, readFileSync } from 'node:fs';
import type { OvsDatapathStats, OvsFdbEntry, OvsFlow, OvsState } from '../model/topology.js';
import { runIn, splitJsonDocuments, type CollectContext } from './context.js';

/** hopdump's lab keeps each namespace's private OVS here (src/lab/ovs.ts). */
export const LAB_OVS_DIR = '/run/hopdump/ovs';

/**
 * Which OVS database serves a namespace: the lab's private one, or (for the
 * host itself) the one OVS_RUNDIR names, as ovs-vsctl finds it. None = no OVS.
 */
export function ovsDatabase(ctx: CollectContext): string | undefined {
  if (ctx.netns && existsSync(`${LAB_OVS_DIR}/${ctx.netns}/db.sock`)) return `unix:${LAB_OVS_DIR}/${ctx.netns}/db.sock`;
  if (!ctx.netns) {
    const rundir = process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch';
    if (existsSync(`${rundir}/db.sock`)) return `unix:${rundir}/db.sock`;
  }
  return undefined;
}

interface OvsdbTable {
  data: unknown[][];
  headings: string[];
}

/** OVSDB JSON values: ["uuid", u], ["set", [...]], ["map", [[k, v]...]], or an atom. */
function atoms(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as unknown[]).map((x) => (Array.isArray(x) && x[0] === 'uuid' ? x[1] : x));
  if (Array.isArray(v) && v[0] === 'uuid') return [v[1]];
  return [v];
}

function map(v: unknown): Record<string, string> {
  if (Array.isArray(v) && v[0] === 'map') return Object.fromEntries((v[1] as Array<[string, string]>).map(([k, val]) => [k, String(val)]));
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
  const db = ovsDatabase(ctx);
  if (!db) return undefined;
  const out = await runIn(ctx, [
    'ovs-vsctl', `--db=${db}`, '--timeout=5', '--format=json',
    '--', '--columns=name,datapath_type,fail_mode,ports,mirrors', 'list', 'Bridge',
    '--', '--columns=_uuid,name,tag,trunks,other_config,external_ids,interfaces', 'list', 'Port',
    '--', '--columns=_uuid,name,type,ofport,link_state,admin_state,error,mac_in_use,options,external_ids', 'list', 'Interface',
    '--', '--columns=_uuid,name,select_all,select_src_port,select_dst_port,output_port,output_vlan', 'list', 'Mirror',
  ]);
  const [bridgesT, portsT, ifacesT, mirrorsT] = splitJsonDocuments(out, 'ovs-vsctl --format=json') as OvsdbTable[];
  const ifaces = new Map(
    rows(ifacesT).map((r) => [
      one<string>(r['_uuid']) ?? '',
      {
        name: String(r['name']),
        type: String(r['type'] ?? '') || 'system',
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
  const rundir = db.replace(/^unix:/, '').replace(/\/db\.sock$/, '');
  const appctl = appctlTarget(rundir);
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
        datapath_type: String(r['datapath_type'] ?? '') || 'system',
        ...(one<string>(r['fail_mode']) ? { fail_mode: one<string>(r['fail_mode'])! } : {}),
        ports: bridgePorts,
        flows: flows[i] ?? [],
        fdb: (fdbs[i] ?? []).map((e) => ({ ...e, port: e.ofport === 'LOCAL' ? String(r['name']) : (byOfport.get(e.ofport) ?? `ofport ${e.ofport}`) })),
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
    if (/^\d+$/.test(pid) && existsSync(`${rundir}/ovs-vswitchd.${pid}.ctl`)) return `${rundir}/ovs-vswitchd.${pid}.ctl`;
  } catch {
    /* no pidfile */
  }
  return existsSync(`${rundir}/ovs-vswitchd.ctl`) ? `${rundir}/ovs-vswitchd.ctl` : undefined;
}

/** `ovs-appctl fdb/show BRIDGE`: " port  VLAN  MAC                Age" then one line per entry. */
export async function ovsFdb(ctx: CollectContext, appctl: string, bridge: string): Promise<Array<Omit<OvsFdbEntry, 'port'>>> {
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
    const skip = /^(duration|table|n_packets|n_bytes|idle_age|hard_age|idle_timeout|hard_timeout|priority|reset_counts|send_flow_rem|cookie)=/;
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
