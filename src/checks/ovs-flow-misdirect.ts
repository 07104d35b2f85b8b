import { sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import {
  bridgeOf,
  decidingRule,
  describePort,
  flowOfRule,
  flowSpec,
  ovsEnv,
  requestTraces,
  targetOvsPort,
  traceLine,
} from './ovs-util.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * An OpenFlow rule sends the traffic for the target out of another port:
 * ofproto/trace of the request outputs, but not to the port the path leaves
 * OVS by, and the last rule it went through names its output itself (not
 * NORMAL: that is the MAC table's choice, see mac-wrong-port).
 */
export const ovsFlowMisdirect: Check = {
  name: 'ovs-flow-misdirect',
  raises: ['ovs-flow-misdirect'],
  run({ topology, after, path, ovsTraces, ovnTraces }) {
    if (ovnTraces && ovnTraces.length > 0) return [];
    const exit = targetOvsPort(path);
    if (!exit) return [];
    const causes: Cause[] = [];
    for (const t of requestTraces(ovsTraces)) {
      if (t.verdict !== 'output' || t.outputs.includes(exit.port)) continue;
      const rule = decidingRule(t);
      if (!rule || rule.priority === undefined || rule.actions.some((a) => /^NORMAL$|learned port|flooding/.test(a)))
        continue;
      const ns = nsById(topology, exit.hop.netns);
      const flow = flowOfRule(bridgeOf(ns, rule.bridge), rule);
      const now = flow && after ? flowOfRule(bridgeOf(nsById(after, exit.hop.netns), rule.bridge), rule) : undefined;
      const delta = flow && now ? now.n_packets - flow.n_packets : undefined;
      const spec = flowSpec({
        table: rule.table,
        priority: rule.priority,
        match: flow?.match ?? rule.match.replace(/"/g, ''),
      });
      causes.push({
        id: 'ovs-flow-misdirect',
        confidence: 0.96,
        device: { netns: exit.hop.netns, ifname: rule.bridge },
        summary: `an OpenFlow rule on ${rule.bridge} sends the traffic for ${path.target.query} out of ${t.outputs.join(', ')} instead of ${exit.port}`,
        evidence: [
          traceLine(t),
          `rule: ${rule.bridge} ${spec} actions=${flow?.actions ?? rule.actions.join(',')}${flow ? ` n_packets=${now?.n_packets ?? flow.n_packets}${delta !== undefined ? ` (+${delta} during the window)` : ''}` : ''}`,
          `it outputs to ${t.outputs.map((o) => describePort(ns, o)).join(', ')}`,
          `the target is behind ${describePort(ns, exit.port)}`,
        ],
        fix: [inNetns(exit.hop.netns, sh`${verbatim(ovsEnv(ns))}ovs-ofctl del-flows --strict ${rule.bridge} ${spec}`)],
      });
      break;
    }
    return causes;
  },
};
