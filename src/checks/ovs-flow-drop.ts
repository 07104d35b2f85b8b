import { remark, sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import { appctlCmd, bridgeOf, decidingRule, flowOfRule, flowSpec, ovsEnv, traceLine } from './ovs-util.js';
import type { Check } from './types.js';
import { inNetns, nsById, proximity } from './util.js';

/**
 * The path's traffic meets an OpenFlow rule that drops it: ofproto/trace of
 * the probe's flow ends in drop (the rule is the last one it went through),
 * backed by that rule's n_packets rising during the window and OVS's
 * drop_action_of_pipeline counter. Without a trace, a drop rule whose match
 * names the target and whose counter rose is enough.
 */
export const ovsFlowDrop: Check = {
  name: 'ovs-flow-drop',
  raises: ['ovs-flow-drop'],
  run({ topology, after, path, ovsTraces, ovnTraces, targetAddresses, correlation }) {
    const causes: Cause[] = [];
    // Where OVN owns the bridge its flows are compiled from the logical pipeline: ovn-drop names the cause.
    if (ovnTraces && ovnTraces.length > 0) return causes;
    const seen = new Set<string>();
    for (const t of (ovsTraces ?? []).filter((x) => x.verdict === 'drop')) {
      const rule = decidingRule(t);
      // Only a rule that drops (no actions, "drop") or a table miss; NORMAL with nowhere to go is not a drop rule.
      const actions = rule?.actions.filter((a) => !a.startsWith('->')) ?? [];
      if (!rule || (rule.priority !== undefined && !(actions.length === 0 || actions.every((a) => a === 'drop'))))
        continue;
      const hop = path.hops.find((h) => h.kind === 'openvswitch' && h.ifname === rule.bridge);
      const netns = hop?.netns ?? path.hops.find((h) => h.kind === 'openvswitch')!.netns;
      const ns = nsById(topology, netns);
      const flow = flowOfRule(bridgeOf(ns, rule.bridge), rule);
      const key = `${rule.bridge}/${rule.table}/${rule.priority}/${rule.match}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const now = flow && after ? flowOfRule(bridgeOf(nsById(after, netns), rule.bridge), rule) : undefined;
      const delta = flow && now ? now.n_packets - flow.n_packets : undefined;
      const miss = rule.priority === undefined;
      const evidence = [
        traceLine(t),
        miss
          ? `${rule.bridge} table ${rule.table}: no rule matches (table miss): drop`
          : `rule: ${rule.bridge} ${flowSpec({ table: rule.table, priority: rule.priority!, match: flow?.match ?? rule.match })} actions=${flow?.actions ?? rule.actions.join(',')}${flow ? ` n_packets=${now?.n_packets ?? flow.n_packets}${delta !== undefined ? ` (+${delta} during the window)` : ''}` : ''}`,
        ...t.excerpt
          .filter((l) => l.trim())
          .slice(0, 12)
          .map((l) => `trace: ${l}`),
        ...coverageDelta(topology, after, netns),
      ];
      const env = ovsEnv(ns);
      const fix = miss
        ? [
            remark(`table ${rule.table} of ${rule.bridge} has no rule for this traffic: add one, e.g.`),
            inNetns(
              netns,
              sh`${verbatim(env)}ovs-ofctl add-flow ${rule.bridge} ${`table=${rule.table},priority=1,actions=NORMAL`}`,
            ),
          ]
        : [
            inNetns(
              netns,
              sh`${verbatim(env)}ovs-ofctl del-flows --strict ${rule.bridge} ${flowSpec({ table: rule.table, priority: rule.priority!, match: flow?.match ?? rule.match.replace(/"/g, '') })}`,
            ),
          ];
      const onLoss = correlation.loss?.direction === t.direction;
      causes.push({
        id: 'ovs-flow-drop',
        confidence:
          (onLoss ? 0.97 : 0.85) *
          (hop ? Math.max(0.8, proximity(path, correlation.loss, hop.netns, hop.ifname)) : 0.9),
        device: { netns, ifname: rule.bridge },
        summary: miss
          ? `OpenFlow on ${rule.bridge} drops the ${t.direction === 'to-target' ? 'traffic to' : 'replies from'} ${path.target.query}: no rule of table ${rule.table} matches it`
          : `an OpenFlow rule on ${rule.bridge} drops the ${t.direction === 'to-target' ? 'traffic to' : 'replies from'} ${path.target.query} (table ${rule.table}, priority ${rule.priority}${delta ? `, ${delta} packets during the window` : ''})`,
        evidence,
        fix,
      });
    }
    if (causes.length > 0 || !after) return causes;
    // No trace to go by: drop rules that name the target and counted packets.
    for (const hop of path.hops.filter((h) => h.kind === 'openvswitch')) {
      const before = bridgeOf(nsById(topology, hop.netns), hop.ifname);
      const now = bridgeOf(nsById(after, hop.netns), hop.ifname);
      if (!before || !now) continue;
      for (const flow of now.flows) {
        if (flow.actions !== 'drop' && flow.actions !== '') continue;
        if (!targetAddresses.some((a) => flow.match.includes(a))) continue;
        const old = before.flows.find(
          (f) => f.table === flow.table && f.priority === flow.priority && f.match === flow.match,
        );
        const delta = flow.n_packets - (old?.n_packets ?? 0);
        if (delta <= 0) continue;
        causes.push({
          id: 'ovs-flow-drop',
          confidence: 0.9,
          device: { netns: hop.netns, ifname: hop.ifname },
          summary: `an OpenFlow rule on ${hop.ifname} drops the traffic (${delta} packets during the window)`,
          evidence: [
            `ovs-ofctl dump-flows ${hop.ifname}: ${flowSpec(flow)} actions=${flow.actions || '(none)'} n_packets=${flow.n_packets} (+${delta})`,
            ...coverageDelta(topology, after, hop.netns),
          ],
          fix: [
            inNetns(
              hop.netns,
              sh`${verbatim(ovsEnv(nsById(topology, hop.netns)))}ovs-ofctl del-flows --strict ${hop.ifname} ${flowSpec(flow)}`,
            ),
          ],
        });
      }
    }
    return causes;
  },
};

/** OVS's own count of packets dropped by OpenFlow actions during the window. */
function coverageDelta(
  topology: Parameters<Check['run']>[0]['topology'],
  after: Parameters<Check['run']>[0]['after'],
  netns: string,
): string[] {
  const a = nsById(topology, netns)?.ovs?.stats?.dropCounters['drop_action_of_pipeline'];
  const b = after ? nsById(after, netns)?.ovs?.stats?.dropCounters['drop_action_of_pipeline'] : undefined;
  if (a === undefined && b === undefined) return [];
  const d = (b ?? 0) - (a ?? 0);
  return d > 0
    ? [
        `${appctlCmd(nsById(topology, netns))} coverage/show: drop_action_of_pipeline ${a ?? 0} → ${b} (+${d} during the window)`,
      ]
    : [];
}
