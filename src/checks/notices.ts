import type { Correlation } from '../correlate/correlate.js';
import type { Topology } from '../model/topology.js';
import type { Hop } from '../model/path.js';
import { inNetns, nsById } from './util.js';

/**
 * What the correlation shows that works but is worth telling: requests taken up at the lower device
 * of the target's macvlan instead of passing it (see Correlator.takenUpAtLower in correlate.ts), and
 * why senders address the lower device: it answers ARP for its child's address (arp_ignore=0, the
 * kernel's default: ARP flux), or a neighbour entry says so.
 */
export function correlationNotices(
  correlation: Pick<Correlation, 'target'>,
  topology: Topology,
  hops: Hop[],
  targetAddresses: string[],
): string[] {
  const out: string[] = [];
  const target = hops[hops.length - 1];
  for (const [h, packets] of correlation.target.takenUpAtLower) {
    const lower = hops[h];
    if (!lower || !target) continue;
    const mac = lower.address?.toLowerCase();
    const address = targetAddresses[0] ?? 'the target';
    const sysctls = nsById(topology, lower.netns)?.sysctls;
    const arpIgnore = sysctls
      ? Math.max(sysctls.arp_ignore['all'] ?? 0, sysctls.arp_ignore[lower.ifname] ?? 0)
      : undefined;
    const entries = topology.namespaces.flatMap((ns) =>
      ns.neighbours
        .filter((n) => targetAddresses.includes(n.dst) && n.lladdr?.toLowerCase() === mac)
        .map((n) => `${ns.id}: ${n.dst} lladdr ${n.lladdr} ${n.state.join(',')}`),
    );
    const why =
      arpIgnore === 0
        ? `${lower.ifname} answers ARP for its ${target.kind}'s address too (arp_ignore=0: ARP flux), so senders use either MAC`
        : `senders have ${lower.ifname}'s MAC for it${arpIgnore !== undefined ? ` (${lower.ifname} no longer answers ARP for it: arp_ignore=${arpIgnore})` : ''}`;
    out.push(
      `${packets} packet${packets === 1 ? '' : 's'} for ${address} came addressed to ${lower.netns}/${lower.ifname}'s own MAC ${lower.address ?? '?'} and ${packets === 1 ? 'was' : 'were'} taken up there, never passing ${target.ifname}, which holds the address (MAC ${target.address ?? '?'}): ${why}; filters and captures on ${target.ifname} miss them` +
        (entries.length ? `. Neighbour entries: ${entries.join('; ')}` : '') +
        (arpIgnore === 0
          ? `. Only ${target.ifname} answers with: ${inNetns(lower.netns, `sysctl -w net.ipv4.conf.${lower.ifname}.arp_ignore=1`)}`
          : ''),
    );
  }
  return out;
}
