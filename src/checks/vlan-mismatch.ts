import { sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import { appctlCmd, describePort, portOf, requestTraces, traceLine, vsctlCmd } from './ovs-util.js';
import type { Check } from './types.js';
import { inNetns, nsById, proximity } from './util.js';

/**
 * The target's OVS access port is in another VLAN than its network: its tag
 * differs from the tag of the other ports of the same Neutron network
 * (other_config:net_uuid), from the agent's own record (other_config:tag),
 * or from the VLAN the flows give the traffic that enters the bridge on the
 * path (mod_vlan_vid), or a trunk on the path does not carry it.
 */
export const vlanMismatch: Check = {
  name: 'vlan-mismatch',
  raises: ['vlan-mismatch'],
  run({ topology, path, correlation, ovsTraces }) {
    const causes: Cause[] = [];
    for (const hop of path.hops) {
      const port = hop.ovs?.port;
      if (!port || hop.kind === 'openvswitch' || !port.vlan.startsWith('access')) continue;
      const ns = nsById(topology, hop.netns);
      const found = portOf(ns, port.name);
      if (!found || found.port.tag === undefined) continue;
      const { bridge, port: p } = found;
      const tag = p.tag!;
      const expected = new Map<number, string[]>();
      const say = (vlan: number, why: string) => expected.set(vlan, [...(expected.get(vlan) ?? []), why]);
      const net = p.other_config['net_uuid'];
      if (net) {
        for (const q of bridge.ports.filter(
          (x) => x !== p && x.other_config['net_uuid'] === net && x.tag !== undefined,
        )) {
          say(q.tag!, `${describePort(ns, q.name)} on the same network ${net} has tag ${q.tag}`);
        }
      }
      const recorded = Number(p.other_config['tag']);
      if (p.other_config['tag'] !== undefined && Number.isInteger(recorded))
        say(recorded, `the agent recorded other_config:tag=${recorded} for ${port.name}`);
      // The VLAN the flows put on traffic entering this bridge on the path.
      const entry = path.hops.find((h) => h.kind === 'openvswitch' && h.ifname === bridge.name)?.ovs?.in;
      if (entry) {
        for (const f of bridge.flows) {
          const m = f.actions.match(/mod_vlan_vid:(\d+)/);
          if (m && new RegExp(`in_port="?${entry.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?(,|$)`).test(f.match)) {
            say(
              Number(m[1]),
              `${bridge.name} ${`table=${f.table},priority=${f.priority},${f.match}`} gives traffic from ${entry.name} VLAN ${m[1]} (actions=${f.actions})`,
            );
          }
        }
      }
      const other = [...expected.entries()].filter(([v]) => v !== tag);
      if (other.length === 0) continue;
      const [want, why] = other.sort((a, b) => b[1].length - a[1].length)[0]!;
      const fdb = bridge.fdb
        .filter((e) => e.port === port.name || e.vlan === want)
        .slice(0, 6)
        .map((e) => `${e.mac} VLAN ${e.vlan} on ${e.port}`);
      const trace = requestTraces(ovsTraces).find((t) => !t.outputs.includes(port.name));
      causes.push({
        id: 'vlan-mismatch',
        confidence: 0.96 * Math.max(0.8, proximity(path, correlation.loss, hop.netns, hop.ifname)),
        device: { netns: hop.netns, ifname: port.name },
        summary: `${port.name} on ${bridge.name} has tag ${tag}, but its network's traffic is in VLAN ${want}`,
        evidence: [
          `${vsctlCmd(ns)} list Port ${port.name}: tag ${tag}`,
          ...why,
          ...(fdb.length ? [`${appctlCmd(ns)} fdb/show ${bridge.name}: ${fdb.join('; ')}`] : []),
          ...(trace ? [traceLine(trace)] : []),
        ],
        fix: [inNetns(hop.netns, sh`${verbatim(vsctlCmd(ns))} set Port ${port.name} ${`tag=${want}`}`)],
      });
    }
    // A trunk on the path that does not carry the VLAN of the target's port.
    const target = [...path.hops].reverse().find((h) => h.ovs?.port?.vlan.startsWith('access'));
    const vlan = target ? Number(target.ovs!.port!.vlan.split(' ')[1]) : undefined;
    if (vlan !== undefined) {
      for (const hop of path.hops.filter(
        (h) => h.ovs?.port?.vlan.startsWith('trunk ') && !h.ovs.port.vlan.includes('all'),
      )) {
        const trunks = hop.ovs!.port!.vlan.slice('trunk '.length).split(',').map(Number);
        if (trunks.includes(vlan) || hop.ovs!.bridge !== target!.ovs!.bridge) continue;
        const ns = nsById(topology, hop.netns);
        causes.push({
          id: 'vlan-mismatch',
          confidence: 0.9,
          device: { netns: hop.netns, ifname: hop.ovs!.port!.name },
          summary: `trunk ${hop.ovs!.port!.name} on ${hop.ovs!.bridge} carries VLANs ${trunks.join(',')}, not ${vlan} of ${target!.ovs!.port!.name}`,
          evidence: [
            `${vsctlCmd(ns)} list Port ${hop.ovs!.port!.name}: trunks [${trunks.join(', ')}]`,
            `${target!.ovs!.port!.name}: tag ${vlan}`,
          ],
          fix: [
            inNetns(
              hop.netns,
              sh`${verbatim(vsctlCmd(ns))} set Port ${hop.ovs!.port!.name} ${`trunks=${[...trunks, vlan].join(',')}`}`,
            ),
          ],
        });
      }
    }
    return causes;
  },
};
