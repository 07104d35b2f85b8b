import { remark, sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import {
  appctlCmd,
  bridgeOf,
  decidingRule,
  describePort,
  requestTraces,
  targetOvsPort,
  traceLine,
} from './ovs-util.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * The MAC table sends the target's frames to another port: ofproto/trace of
 * the request reaches NORMAL, which "forwards to learned port" that is not
 * the port the path leaves OVS by, and the FDB has the target's MAC there.
 */
export const macWrongPort: Check = {
  name: 'mac-wrong-port',
  raises: ['mac-wrong-port'],
  run({ topology, path, ovsTraces, ovnTraces }) {
    if (ovnTraces && ovnTraces.length > 0) return [];
    const exit = targetOvsPort(path);
    if (!exit) return [];
    const causes: Cause[] = [];
    for (const t of requestTraces(ovsTraces)) {
      if (t.verdict !== 'output' || t.outputs.includes(exit.port) || t.flooded) continue;
      const rule = decidingRule(t);
      if (!rule?.actions.some((a) => /learned port/.test(a))) continue;
      const mac = t.flow.match(/dl_dst=([0-9a-f:]{17})/)?.[1];
      const ns = nsById(topology, exit.hop.netns);
      const br = bridgeOf(ns, rule.bridge);
      const entries = (br?.fdb ?? []).filter((e) => e.mac === mac);
      const wrong = entries.find((e) => e.port !== exit.port);
      if (!mac || !wrong) continue;
      const owner = ns?.ovs?.bridges
        .flatMap((b) => b.ports)
        .find((p) => p.interfaces.some((i) => i.external_ids['attached-mac']?.toLowerCase() === mac));
      causes.push({
        id: 'mac-wrong-port',
        confidence: 0.95,
        device: { netns: exit.hop.netns, ifname: rule.bridge },
        summary: `${rule.bridge}'s MAC table has ${mac} on ${wrong.port}, not on ${exit.port}: frames for ${path.target.query} go to the wrong port`,
        evidence: [
          `${appctlCmd(ns)} fdb/show ${rule.bridge}: ${mac} VLAN ${wrong.vlan} on port ${wrong.ofport} (${wrong.port}), age ${wrong.age}`,
          traceLine(t),
          `${wrong.port} is ${describePort(ns, wrong.port)}`,
          owner
            ? `${mac} is the attached-mac of ${describePort(ns, owner.name)}`
            : `the target is behind ${describePort(ns, exit.port)}`,
        ],
        fix: [
          inNetns(exit.hop.netns, sh`${verbatim(appctlCmd(ns))} fdb/del ${rule.bridge} ${wrong.vlan} ${mac}`),
          remark(
            `if it comes back, something behind ${wrong.port} sends with ${mac}: ${inNetns(exit.hop.netns, sh`tcpdump -nn -e -p -i ${wrong.port} -- ether src ${mac}`)}`,
          ),
        ],
      });
      break;
    }
    return causes;
  },
};
