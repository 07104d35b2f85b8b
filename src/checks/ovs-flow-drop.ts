import type { Cause } from '../report/schema.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * OpenFlow rules on the OVS bridges of the path whose actions drop (an empty
 * action list, or "drop") and whose packet counter rose during the window.
 */
export const ovsFlowDrop: Check = {
  name: 'ovs-flow-drop',
  raises: ['ovs-flow-drop'],
  run({ topology, after, path }) {
    if (!after) return [];
    const causes: Cause[] = [];
    for (const hop of path.hops.filter((h) => h.kind === 'openvswitch')) {
      const before = nsById(topology, hop.netns)?.ovs?.bridges.find((b) => b.name === hop.ifname);
      const now = nsById(after, hop.netns)?.ovs?.bridges.find((b) => b.name === hop.ifname);
      if (!before || !now) continue;
      // ovs-ofctl finds BRIDGE.mgmt in OVS_RUNDIR: name it when it is not the default.
      const rundir = nsById(after, hop.netns)?.ovs?.rundir;
      const env = rundir && !/^\/(var\/)?run\/openvswitch$/.test(rundir) ? `env OVS_RUNDIR=${rundir} ` : '';
      for (const flow of now.flows) {
        if (flow.actions !== 'drop' && flow.actions !== '') continue;
        const old = before.flows.find((f) => f.table === flow.table && f.priority === flow.priority && f.match === flow.match);
        const delta = flow.n_packets - (old?.n_packets ?? 0);
        if (delta <= 0) continue;
        const spec = `table=${flow.table},priority=${flow.priority}${flow.match ? `,${flow.match}` : ''}`;
        causes.push({
          id: 'ovs-flow-drop',
          confidence: 0.95,
          device: { netns: hop.netns, ifname: hop.ifname },
          summary: `an OpenFlow rule on ${hop.ifname} drops the traffic (${delta} packets during the window)`,
          evidence: [`ovs-ofctl dump-flows ${hop.ifname}: ${spec} actions=${flow.actions || '(none)'} n_packets=${flow.n_packets} (+${delta})`],
          fix: [inNetns(hop.netns, `${env}ovs-ofctl del-flows --strict ${hop.ifname} '${spec}'`)],
        });
      }
    }
    return causes;
  },
};
