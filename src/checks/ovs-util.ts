import { sh } from '../util/shell.js';
import type { Namespace, OvsBridge, OvsFlow, OvsPort } from '../model/topology.js';
import type { Hop, Path } from '../model/path.js';
import type { OvsTrace, OvsTraceRule } from '../model/report.js';

/** Shared by the Open vSwitch checks: how to name things and write commands an operator can paste. */

/** "env OVS_RUNDIR=… " when the bridges' sockets are not in the packaged default. */
export function ovsEnv(ns: Namespace | undefined): string {
  const rundir = ns?.ovs?.rundir;
  return rundir && !/^\/(var\/)?run\/openvswitch$/.test(rundir) ? sh`env ${`OVS_RUNDIR=${rundir}`} ` : '';
}

/** ovs-vsctl with the database it was read from when that is not the default. */
export function vsctlCmd(ns: Namespace | undefined): string {
  const db = ns?.ovs?.db;
  return db && !/^unix:\/(var\/)?run\/openvswitch\/db\.sock$/.test(db) ? sh`ovs-vsctl ${`--db=${db}`}` : 'ovs-vsctl';
}

/** ovs-appctl with the control socket it was read from when that is not one ovs-appctl finds alone. */
export function appctlCmd(ns: Namespace | undefined): string {
  const t = ns?.ovs?.appctl;
  return t && !/^\/(var\/)?run\/openvswitch\/ovs-vswitchd\.\d+\.ctl$/.test(t) ? sh`ovs-appctl -t ${t}` : 'ovs-appctl';
}

export function bridgeOf(ns: Namespace | undefined, name: string): OvsBridge | undefined {
  return ns?.ovs?.bridges.find((b) => b.name === name);
}

export function portOf(ns: Namespace | undefined, name: string): { bridge: OvsBridge; port: OvsPort } | undefined {
  for (const bridge of ns?.ovs?.bridges ?? []) {
    const port = bridge.ports.find((p) => p.name === name || p.interfaces.some((i) => i.name === name));
    if (port) return { bridge, port };
  }
  return undefined;
}

/** "qvo8c5d2e4f-1a (Neutron port 8c5d2e4f-…, instance 7c2f…, attached-mac fa:16:3e:00:00:12)" */
export function describePort(ns: Namespace | undefined, name: string): string {
  const ids = portOf(ns, name)?.port.interfaces[0]?.external_ids ?? {};
  const bits = [
    ids['iface-id'] ? `Neutron port ${ids['iface-id']}` : '',
    ids['vm-uuid'] ? `instance ${ids['vm-uuid']}` : '',
    ids['attached-mac'] ? `attached-mac ${ids['attached-mac']}` : '',
  ].filter(Boolean);
  return bits.length ? `${name} (${bits.join(', ')})` : name;
}

/** Matches as ofproto/trace and dump-flows print them, compared without quotes and spaces. */
export const normMatch = (m: string) => m.replace(/"/g, '').replace(/\s+/g, '');

export function flowOfRule(bridge: OvsBridge | undefined, rule: OvsTraceRule): OvsFlow | undefined {
  return bridge?.flows.find(
    (f) => f.table === rule.table && f.priority === rule.priority && normMatch(f.match) === normMatch(rule.match),
  );
}

export const flowSpec = (f: Pick<OvsFlow, 'table' | 'priority' | 'match'>) =>
  `table=${f.table},priority=${f.priority}${f.match ? `,${f.match}` : ''}`;

/** The OVS port where the path leaves Open vSwitch towards the target, and the bridge hop it is on. */
export function targetOvsPort(path: Path): { hop: Hop; port: string } | undefined {
  const bridges = path.hops.filter((h) => h.kind === 'openvswitch' && h.ovs?.out && h.ovs.out.type !== 'patch');
  const last = bridges[bridges.length - 1];
  return last?.ovs?.out ? { hop: last, port: last.ovs.out.name } : undefined;
}

/** The rule that decided a trace's fate: the last one it went through. */
export function decidingRule(t: OvsTrace): OvsTraceRule | undefined {
  return t.rules[t.rules.length - 1];
}

/** The trace of the request towards the target, preferring one of a real captured packet. */
export function requestTraces(traces: OvsTrace[] | undefined): OvsTrace[] {
  return (traces ?? []).filter((t) => t.direction === 'to-target' && t.verdict !== 'error');
}

export function traceLine(t: OvsTrace): string {
  return `ovs-appctl ofproto/trace ${t.bridge} '${t.flow}'${t.synthesized ? ' (flow made from the probe)' : ''}: Datapath actions: ${t.datapathActions || '?'}`;
}
