import type { Check } from './types.js';
import { hopName, ifaceOf, inNetns } from './util.js';

/** The guest's backend is not a port of the bridge the path needs. */
export const bridgePortMissing: Check = {
  name: 'bridge-port-missing',
  raises: ['bridge-port-missing'],
  run({ topology, path }) {
    if (path.complete) return [];
    const gapIndex = path.hops.findIndex((h) => h.via === 'gap');
    const gap = path.hops[gapIndex];
    const before = path.hops[gapIndex - 1];
    if (!gap || !before || before.kind !== 'bridge' || gap.netns !== before.netns) return [];
    const iface = ifaceOf(topology, gap.netns, gap.ifname);
    const where = iface?.master ? `is a port of ${iface.master}` : 'is not a port of any bridge';
    return [
      {
        id: 'bridge-port-missing',
        confidence: 0.95,
        device: { netns: gap.netns, ifname: gap.ifname },
        summary: `${hopName(gap)} ${where}; the path to ${path.target.query} needs it on ${before.ifname}`,
        evidence: [
          `${before.ifname} ports: ${topology.namespaces.find((n) => n.id === before.netns)?.bridges.find((b) => b.ifname === before.ifname)?.ports.map((p) => p.ifname).join(', ') || 'none'}`,
          `${gap.ifname}: master ${iface?.master ?? 'none'}`,
        ],
        fix: [inNetns(gap.netns, `ip link set ${gap.ifname} master ${before.ifname}`)],
      },
    ];
  },
};
