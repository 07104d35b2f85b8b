import { sh, withRemark } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Topology } from '../model/topology.js';
import type { Path } from '../model/path.js';
import { appctlCmd } from './ovs-util.js';
import type { Check, CheckContext } from './types.js';
import { ifaceOf, inNetns, nsById, proximity } from './util.js';

/** rx/tx dropped and error counters, and qdisc drops, that rose during the window on path devices. */
export const deviceDrops: Check = {
  name: 'device-drops',
  raises: ['device-drops'],
  run({ topology, after, path, correlation, ovsTraces }) {
    if (!after) return [];
    const causes: Cause[] = [];
    for (const hop of path.hops) {
      const a = ifaceOf(topology, hop.netns, hop.ifname);
      const b = ifaceOf(after, hop.netns, hop.ifname);
      const evidence: string[] = [];
      let total = 0;
      if (a?.stats && b?.stats) {
        for (const k of ['rx_dropped', 'tx_dropped', 'rx_errors', 'tx_errors'] as const) {
          const d = b.stats[k] - a.stats[k];
          if (d > 0) {
            evidence.push(`${k} ${a.stats[k]} → ${b.stats[k]} (+${d})`);
            total += d;
          }
        }
      }
      const qa = nsById(topology, hop.netns)?.qdiscs?.filter((q) => q.dev === hop.ifname) ?? [];
      const qb = nsById(after, hop.netns)?.qdiscs?.filter((q) => q.dev === hop.ifname) ?? [];
      let qdiscLine = '';
      for (const q of qb) {
        const old = qa.find((x) => x.handle === q.handle && x.kind === q.kind);
        const d = q.drops - (old?.drops ?? 0);
        if (d > 0) {
          evidence.push(
            `qdisc ${q.kind} ${q.handle}: dropped ${old?.drops ?? 0} → ${q.drops} (+${d})${q.kind === 'tbf' ? `, rate ${JSON.stringify(q.options['rate'] ?? '?')}` : ''}`,
          );
          qdiscLine = sh`tc -s qdisc show dev ${hop.ifname}`;
          total += d;
        }
      }
      if (total === 0) continue;
      causes.push({
        id: 'device-drops',
        confidence: 0.8 * proximity(path, correlation.loss, hop.netns, hop.ifname),
        device: { netns: hop.netns, ifname: hop.ifname },
        summary: `${hop.netns}/${hop.ifname} dropped ${total} packets during the window`,
        evidence,
        fix: qdiscLine
          ? [
              withRemark(inNetns(hop.netns, qdiscLine), 'then raise the limit/rate or remove it:'),
              inNetns(hop.netns, sh`tc qdisc del dev ${hop.ifname} root`),
            ]
          : [
              inNetns(hop.netns, sh`ip -s -s link show ${hop.ifname}`),
              '# look at ring sizes (ethtool -g), backlog (net.core.netdev_max_backlog) and the driver log',
            ],
      });
    }
    causes.push(
      ...ovsDatapathDrops(topology, after, path, correlation, ovsTraces !== undefined && ovsTraces.length > 0),
    );
    return causes;
  },
};

/**
 * Open vSwitch's datapath drops during the window: dpctl/show "lookups lost"
 * (upcalls that never reached ovs-vswitchd) and coverage/show drop counters
 * (datapath_drop_*, drop_action_*). OpenFlow drop actions are ovs-flow-drop's
 * when a trace shows them; the rest is the datapath's own.
 */
function ovsDatapathDrops(
  topology: Topology,
  after: Topology,
  path: Path,
  correlation: CheckContext['correlation'],
  traced: boolean,
): Cause[] {
  const causes: Cause[] = [];
  for (const netns of [...new Set(path.hops.filter((h) => h.kind === 'openvswitch').map((h) => h.netns))]) {
    const a = nsById(topology, netns)?.ovs?.stats;
    const b = nsById(after, netns)?.ovs?.stats;
    if (!a || !b) continue;
    const evidence: string[] = [];
    let total = 0;
    for (const dp of b.datapaths) {
      const old = a.datapaths.find((x) => x.name === dp.name);
      const d = dp.lost - (old?.lost ?? 0);
      if (d > 0) {
        evidence.push(`dpctl/show ${dp.name}: lookups lost ${old?.lost ?? 0} → ${dp.lost} (+${d})`);
        total += d;
      }
    }
    for (const [name, value] of Object.entries(b.dropCounters)) {
      if (traced && name === 'drop_action_of_pipeline') continue;
      const d = value - (a.dropCounters[name] ?? 0);
      if (d > 0) {
        evidence.push(`coverage/show: ${name} ${a.dropCounters[name] ?? 0} → ${value} (+${d})`);
        total += d;
      }
    }
    if (total === 0) continue;
    // The bridge hop where the loss is, else the first OVS bridge of the path.
    const bridges = path.hops.filter((h) => h.kind === 'openvswitch' && h.netns === netns);
    const hop = bridges.find((h) => proximity(path, correlation.loss, h.netns, h.ifname) === 1) ?? bridges[0]!;
    if (!correlation.loss || proximity(path, correlation.loss, hop.netns, hop.ifname) < 1) continue;
    causes.push({
      id: 'device-drops',
      confidence: 0.7,
      device: { netns, ifname: hop.ifname },
      summary: `Open vSwitch's datapath dropped ${total} packets during the window`,
      evidence,
      fix: [
        withRemark(
          inNetns(netns, `${appctlCmd(nsById(topology, netns))} coverage/show`),
          'and: dpctl/show, ovs-vswitchd.log (upcall/handler limits, invalid packets)',
        ),
      ],
    });
  }
  return causes;
}
