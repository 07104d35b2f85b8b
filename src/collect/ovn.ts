import type { OvnNbState } from '../model/evidence.js';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Host } from '../host/host.js';
import { isMac } from '../model/ip.js';
import { splitJsonDocuments } from './context.js';
import { netnsIdentity, ownerOf, pickSocket, scanDaemons, type DaemonProcess, type DaemonScan } from './daemons.js';
import { ovsdbServers } from './ovs.js';

/** Where packaged OVN keeps its database sockets when OVN_RUNDIR is not set. */
const OVN_DEFAULT_RUNDIR = '/var/run/ovn';

/**
 * The OVN databases serving the namespace discovery starts from (the host or
 * --netns), as ovn-nbctl and ovn-trace find them: OVN_NB_DB/OVN_SB_DB, else
 * the sockets in OVN_RUNDIR, else the packaged run directory, else the
 * ovsdb-servers found by process that serve OVN_Northbound and
 * OVN_Southbound in that namespace. undefined = no OVN here.
 */
export function ovnDatabases(
  netns: string | undefined,
  scan: DaemonScan = scanDaemons(),
): { nb: string; sb: string } | undefined {
  const want = netnsIdentity(netns);
  const one = (envDb: string, file: string, schema: string): string | undefined => {
    const explicit = process.env[envDb];
    if (explicit) return explicit;
    const servers = ovsdbServers(scan, schema);
    const candidates: Array<{ socket: string; explicit?: boolean; owner?: DaemonProcess | undefined }> = [];
    const rundir = process.env['OVN_RUNDIR'];
    if (rundir) candidates.push({ socket: `${rundir}/${file}`, explicit: true });
    candidates.push({ socket: `${OVN_DEFAULT_RUNDIR}/${file}` });
    for (const s of servers) for (const socket of s.sockets) candidates.push({ socket, owner: s.process });
    const existing = candidates
      .filter((c) => existsSync(c.socket))
      .map((c) => (c.owner || c.explicit ? c : { ...c, owner: ownerOf(c.socket, servers) }));
    const chosen = pickSocket(existing, want, !netns);
    return chosen ? `unix:${chosen.socket}` : undefined;
  };
  const nb = one('OVN_NB_DB', 'ovnnb_db.sock', 'OVN_Northbound');
  const sb = one('OVN_SB_DB', 'ovnsb_db.sock', 'OVN_Southbound');
  return nb && sb ? { nb, sb } : undefined;
}

interface Table {
  data: unknown[][];
  headings: string[];
}
const rows = (t: Table | undefined) =>
  (t?.data ?? []).map((r) => Object.fromEntries(t!.headings.map((h, i) => [h, r[i]])));
const set = (v: unknown): unknown[] =>
  Array.isArray(v) && v[0] === 'set'
    ? (v[1] as unknown[])
    : Array.isArray(v) && v[0] === 'uuid'
      ? [v]
      : v === undefined
        ? []
        : [v];
const uuid = (v: unknown) => (Array.isArray(v) && v[0] === 'uuid' ? String(v[1]) : String(v));

/** Logical switches' ports (addresses, port_security) and ACLs, as JSON from the northbound database. */
export async function ovnNbState(host: Host, netns: string | undefined, nb: string): Promise<OvnNbState> {
  const r = await host.run(
    [
      'ovn-nbctl',
      `--db=${nb}`,
      '--timeout=5',
      '--format=json',
      '--',
      '--columns=name,ports,acls',
      'list',
      'Logical_Switch',
      '--',
      '--columns=_uuid,name,addresses,port_security',
      'list',
      'Logical_Switch_Port',
      '--',
      '--columns=_uuid,direction,priority,match,action,name',
      'list',
      'ACL',
    ],
    { ...(netns ? { netns } : {}), timeoutMs: 8000 },
  );
  const [ls, lsp, acl] = splitJsonDocuments(r.stdout, 'ovn-nbctl --format=json') as Table[];
  const switchOfPort = new Map<string, string>();
  const switchOfAcl = new Map<string, string>();
  for (const s of rows(ls)) {
    for (const p of set(s['ports'])) switchOfPort.set(uuid(p), String(s['name']));
    for (const a of set(s['acls'])) switchOfAcl.set(uuid(a), String(s['name']));
  }
  return {
    ports: rows(lsp).map((p) => ({
      name: String(p['name']),
      logicalSwitch: switchOfPort.get(uuid(p['_uuid'])) ?? '',
      addresses: set(p['addresses']).map(String),
      portSecurity: set(p['port_security']).map(String),
    })),
    acls: rows(acl).map((a) => ({
      logicalSwitch: switchOfAcl.get(uuid(a['_uuid'])) ?? '',
      direction: String(a['direction']),
      priority: Number(a['priority']),
      match: String(a['match']),
      action: String(a['action']),
      ...(set(a['name']).length ? { name: String(set(a['name'])[0]) } : {}),
    })),
  };
}

export interface OvnTraceStage {
  pipeline: 'ingress' | 'egress';
  table: number;
  stage: string;
  match: string;
  priority?: number;
  actions: string[];
}
export interface OvnTraceResult {
  datapath: string;
  inport: string;
  expression: string;
  verdict: 'output' | 'drop';
  outport?: string;
  /** The stage that dropped (ls_out_acl, ls_in_apply_port_sec, ...). */
  dropStage?: OvnTraceStage;
  stages: OvnTraceStage[];
  excerpt: string[];
}

export interface OvnFlow {
  proto: 'icmp' | 'tcp' | 'udp';
  ethSrc: string;
  ethDst: string;
  ipSrc: string;
  ipDst: string;
  ttl?: number;
  icmpType?: number;
  sport?: number;
  dport?: number;
}

const NAME = /^[\w.:-]{1,64}$/;

/** The ovn-trace microflow expression, from validated fields only. */
export function ovnExpression(inport: string, f: OvnFlow): string {
  if (!NAME.test(inport) || !isMac(f.ethSrc) || !isMac(f.ethDst) || isIP(f.ipSrc) !== 4 || isIP(f.ipDst) !== 4)
    throw new Error('bad ovn-trace fields');
  const n = (v: number | undefined, d: number, max: number) =>
    v !== undefined && Number.isInteger(v) && v >= 0 && v <= max ? v : d;
  const parts = [
    `inport == "${inport}"`,
    `eth.src == ${f.ethSrc}`,
    `eth.dst == ${f.ethDst}`,
    `ip4.src == ${f.ipSrc}`,
    `ip4.dst == ${f.ipDst}`,
    `ip.ttl == ${n(f.ttl, 64, 255)}`,
  ];
  if (f.proto === 'icmp') parts.push(`icmp4.type == ${n(f.icmpType, 8, 255)}`);
  else parts.push(`${f.proto}.src == ${n(f.sport, 40000, 65535)}`, `${f.proto}.dst == ${n(f.dport, 80, 65535)}`);
  return parts.join(' && ');
}

/**
 * `ovn-trace DATAPATH EXPRESSION`: the logical pipeline the packet takes, and where it ends.
 * --no-friendly-names: by default ovn-trace shortens names that hold a UUID (Neutron's ports
 * and neutron-<uuid> switches print as "c4468b") in its output, so the output port and the
 * stage's match would not name the northbound rows they are compared with.
 */
export async function ovnTrace(
  host: Host,
  netns: string | undefined,
  sb: string,
  datapath: string,
  inport: string,
  flow: OvnFlow,
): Promise<OvnTraceResult> {
  if (!NAME.test(datapath)) throw new Error(`bad logical switch name ${datapath}`);
  const expression = ovnExpression(inport, flow);
  const r = await host.run(['ovn-trace', `--db=${sb}`, '--no-friendly-names', datapath, expression], {
    ...(netns ? { netns } : {}),
    timeoutMs: 8000,
  });
  return { datapath, inport, expression, ...parseOvnTrace(r.stdout) };
}

export function parseOvnTrace(text: string): Omit<OvnTraceResult, 'datapath' | 'inport' | 'expression'> {
  const stages: OvnTraceStage[] = [];
  const excerpt: string[] = [];
  let pipeline: 'ingress' | 'egress' = 'ingress';
  let outport: string | undefined;
  for (const line of text.split('\n')) {
    const head = line.match(/^(ingress|egress)\(dp="[^"]*", inport="[^"]*"(?:, outport="([^"]*)")?\)/);
    if (head) {
      pipeline = head[1] as 'ingress' | 'egress';
      if (head[2]) outport = head[2];
      excerpt.push(line);
      continue;
    }
    const st = line.match(/^\s*(\d+)\. (\w+) \([^)]*\): (.*?)(?:, priority (\d+))?(?:, uuid \w+)?$/);
    if (st) {
      stages.push({
        pipeline,
        table: Number(st[1]),
        stage: st[2]!,
        match: st[3]!,
        ...(st[4] ? { priority: Number(st[4]) } : {}),
        actions: [],
      });
      excerpt.push(line);
      continue;
    }
    const last = stages[stages.length - 1];
    if (last && /^\s{4}\S/.test(line)) {
      last.actions.push(line.trim());
      excerpt.push(line);
    }
  }
  const end = stages[stages.length - 1];
  const dropped = end !== undefined && end.actions.some((a) => /^drop;?$/.test(a));
  const out = /^output;?$/;
  const delivered = !dropped && end !== undefined && end.pipeline === 'egress' && end.actions.some((a) => out.test(a));
  return {
    verdict: delivered ? 'output' : 'drop',
    ...(outport ? { outport } : {}),
    ...(!delivered && end ? { dropStage: end } : {}),
    stages,
    excerpt: excerpt.slice(0, 40),
  };
}
