import type { Cause, CauseId } from '../model/report.js';
import type { Check } from './types.js';

/** SKB_DROP_REASON_* (include/net/dropreason-core.h) to the cause it points at. */
export const DROP_REASON_CAUSE: Record<string, CauseId> = {
  NETFILTER_DROP: 'firewall-drop',
  IP_RPFILTER: 'rp-filter-drop',
  BRIDGE_INGRESS_STP_STATE: 'stp-blocking',
  TC_INGRESS: 'tc-filter',
  TC_EGRESS: 'tc-filter',
  TC_CHAIN_NOTFOUND: 'tc-filter',
  OTHERHOST: 'promisc-dependent',
  PKT_TOO_BIG: 'mtu-mismatch',
  NEIGH_FAILED: 'guest-arp-unresolved',
  NEIGH_QUEUEFULL: 'guest-arp-unresolved',
  IP_INNOROUTES: 'no-route',
  IP_OUTNOROUTES: 'no-route',
  NO_SOCKET: 'service-not-listening',
  QDISC_DROP: 'device-drops',
  QDISC_OVERLIMIT: 'device-drops',
  FULL_RING: 'device-drops',
  CPU_BACKLOG: 'device-drops',
  TCP_LISTEN_OVERFLOW: 'guest-no-reply',
  SOCKET_BACKLOG: 'guest-no-reply',
};

/**
 * Kernel drop reasons seen during the window. Tracing is host-wide (kfree_skb
 * carries no namespace, and interface names repeat across namespaces), so
 * they are supporting evidence: the registry folds them into the cause
 * another check found for the same reason, and keeps one on its own only
 * when nothing else explains the loss and its device is one of the two hops
 * of the loss segment.
 */
export const kernelDrops: Check = {
  name: 'kernel-drops',
  raises: [...new Set(Object.values(DROP_REASON_CAUSE))],
  run({ drops, path, correlation }) {
    // Nothing to explain, or drops that cannot be tied to this path: host-wide noise.
    if (!correlation.loss && correlation.target.rstFromTarget.length === 0) return [];
    const byCause = new Map<CauseId, Cause>();
    for (const d of drops ?? []) {
      const id = DROP_REASON_CAUSE[d.reason];
      if (!id) continue;
      const hop = d.device ? path.hops.find((h) => h.ifname === d.device) : undefined;
      const line = kernelEvidence(d);
      const existing = byCause.get(id);
      if (existing) {
        existing.evidence.push(line);
        continue;
      }
      byCause.set(id, {
        id,
        confidence: 0.3,
        device: hop ? { netns: hop.netns, ifname: hop.ifname } : null,
        summary: `the kernel dropped packets with reason ${d.reason} during the window${d.device ? ` (received on ${d.device})` : ''}`,
        evidence: [line],
        fix: [],
      });
    }
    return [...byCause.values()];
  },
};

export function kernelEvidence(d: { reason: string; count: number; location: string; device?: string }): string {
  return `kernel: skb:kfree_skb reason ${d.reason} ×${d.count} in ${d.location}${d.device ? `, received on ${d.device}` : ''}`;
}
