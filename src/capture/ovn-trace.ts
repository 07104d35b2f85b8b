import { ovnDatabases, ovnNbState, ovnTrace, type OvnFlow } from '../collect/ovn.js';
import type { OvnNbState } from '../model/evidence.js';
import type { Host } from '../host/host.js';
import type { Topology } from '../model/topology.js';
import type { OvnTrace, OvsTrace } from '../model/report.js';

/**
 * Where OVN owns br-int, its OpenFlow tables are compiled logical flows: the
 * evidence an operator can act on is the logical pipeline. For every IP flow
 * ofproto/trace was given, `ovn-trace` of the same packet on the logical
 * switch of the port it enters by (the Interface's external_ids:iface-id).
 */
export async function traceOvnPath(
  host: Host,
  topology: Topology,
  ovsTraces: OvsTrace[],
  hypervisor: string | undefined,
): Promise<{ traces: OvnTrace[]; nb?: OvnNbState }> {
  const dbs = ovnDatabases(hypervisor);
  if (!dbs || ovsTraces.length === 0) return { traces: [] };
  const nb = { ...(await ovnNbState(host, hypervisor, dbs.nb)), database: dbs.nb };
  const root = topology.namespaces.find((n) => n.isRoot);
  const lportOf = (ifname: string) =>
    root?.ovs?.bridges.flatMap((b) => b.ports.flatMap((p) => p.interfaces)).find((i) => i.name === ifname)
      ?.external_ids['iface-id'];
  const out: OvnTrace[] = [];
  for (const t of ovsTraces) {
    if (t.proto === 'arp') continue;
    const inport = lportOf(t.inPort);
    const ls = inport ? nb.ports.find((p) => p.name === inport)?.logicalSwitch : undefined;
    const flow = flowOf(t);
    if (!inport || !ls || !flow) continue;
    try {
      const r = await ovnTrace(host, hypervisor, dbs.sb, ls, inport, flow);
      out.push({ direction: t.direction, proto: t.proto, synthesized: t.synthesized, ...r });
    } catch {
      /* no trace for this one */
    }
  }
  return { traces: out, nb };
}

/** The ofproto/trace flow text back into fields (it was built from validated ones). */
function flowOf(t: OvsTrace): OvnFlow | undefined {
  const get = (k: string) => t.flow.match(new RegExp(`(?:^|,)${k}=([^,]+)`))?.[1];
  const proto = t.flow.split(',')[0];
  if (proto !== 'icmp' && proto !== 'tcp' && proto !== 'udp') return undefined;
  const num = (k: string) => (get(k) !== undefined ? Number(get(k)) : undefined);
  const f: OvnFlow = {
    proto,
    ethSrc: get('dl_src') ?? '',
    ethDst: get('dl_dst') ?? '',
    ipSrc: get('nw_src') ?? '',
    ipDst: get('nw_dst') ?? '',
  };
  const ttl = num('nw_ttl');
  if (ttl !== undefined) f.ttl = ttl;
  const it = num('icmp_type');
  if (it !== undefined) f.icmpType = it;
  const sp = num('tp_src');
  if (sp !== undefined) f.sport = sp;
  const dp = num('tp_dst');
  if (dp !== undefined) f.dport = dp;
  return f;
}
