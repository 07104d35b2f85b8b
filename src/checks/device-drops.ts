import type { Cause } from '../report/schema.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, nsById, proximity } from './util.js';

/** rx/tx dropped and error counters, and qdisc drops, that rose during the window on path devices. */
export const deviceDrops: Check = {
  name: 'device-drops',
  raises: ['device-drops'],
  run({ topology, after, path, correlation }) {
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
          evidence.push(`qdisc ${q.kind} ${q.handle}: dropped ${old?.drops ?? 0} → ${q.drops} (+${d})${q.kind === 'tbf' ? `, rate ${String(q.options['rate'] ?? '?')}` : ''}`);
          qdiscLine = `tc qdisc show dev ${hop.ifname}`;
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
          ? [inNetns(hop.netns, `tc -s ${qdiscLine.slice(3)}`) + '    # then raise the limit/rate or remove it:', inNetns(hop.netns, `tc qdisc del dev ${hop.ifname} root`)]
          : [inNetns(hop.netns, `ip -s -s link show ${hop.ifname}`), '# look at ring sizes (ethtool -g), backlog (net.core.netdev_max_backlog) and the driver log'],
      });
    }
    return causes;
  },
};
