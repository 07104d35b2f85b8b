import type { Cause } from '../report/schema.js';
import type { Check, CheckContext } from './types.js';
import { hopName, inNetns } from './util.js';

/**
 * Seed 000: requests reach the guest's NIC, and the guest only asks who-has
 * for the peer it must answer; it never sends the reply.
 */
export const guestArpUnresolved: Check = {
  name: 'guest-arp-unresolved',
  raises: ['guest-arp-unresolved'],
  run({ correlation, path, targetAddresses }) {
    const t = correlation.target;
    const nic = path.hops[path.hops.length - 1]!;
    const silent = silentGuest(path, correlation, targetAddresses[0]);
    if (silent) return [silent];
    if (t.requestsAtTargetNic === 0 || t.arpAskedByTarget.size === 0 || t.ipFromTarget > 0) return [];
    const asked = [...t.arpAskedByTarget.entries()].map(([ip, n]) => `${ip} (${n}×)`);
    const peers = [...t.arpAskedByTarget.keys()];
    return [
      {
        id: 'guest-arp-unresolved',
        confidence: 0.85,
        device: { netns: nic.netns, ifname: nic.ifname },
        summary: `${targetAddresses[0]} receives the requests but only asks ARP who-has ${peers.join(', ')} and never replies`,
        evidence: [
          `${t.requestsAtTargetNic} packets to ${targetAddresses[0]} reached ${hopName(nic)}`,
          `the target sent ARP requests for ${asked.join(', ')} and no IP packet`,
          t.arpRepliesToTargetAtNic > 0
            ? `${t.arpRepliesToTargetAtNic} ARP replies addressed to the target reached ${hopName(nic)}: the guest does not take them up`
            : `no ARP reply reached ${hopName(nic)}`,
        ],
        fix: [
          inNetns(nic.netns, `ip neigh show dev ${nic.ifname}`) + '    # inside the guest: is the peer FAILED/INCOMPLETE?',
          inNetns(nic.netns, `ip link set ${nic.ifname} down && ip link set ${nic.ifname} up`) + '    # inside the guest (seed 000)',
          '# check ARP filtering inside the guest (nft list ruleset | grep -A3 "table arp"; arptables -L) and the NIC driver in dmesg',
        ],
      },
    ];
  },
};

/**
 * A silent guest found from its prefix (the path has candidates): ARP
 * requests for its address reach its backend and nothing answers, and no IP
 * packet is seen from it. Nothing better is known from outside the guest.
 */
function silentGuest(path: CheckContext['path'], correlation: CheckContext['correlation'], address: string | undefined): Cause | undefined {
  if (!path.candidates || !address) return undefined;
  const last = correlation.hopCounts.length - 1;
  const end = correlation.hopCounts[last];
  if (!end || !end.observed || end.arpRequests === 0 || end.arpReplies > 0 || correlation.target.ipFromTarget > 0) return undefined;
  if (correlation.loss?.direction !== 'from-target' || correlation.loss.firstMissingHop?.ifname !== end.ifname) return undefined;
  const onPath = (c: { netns: string; ifname: string }) => path.hops.some((h) => h.netns === c.netns && h.ifname === c.ifname);
  const others = path.candidates.filter((c) => !onPath(c));
  return {
    id: 'guest-arp-unresolved',
    confidence: 0.6,
    device: { netns: end.netns, ifname: end.ifname },
    summary: `ARP requests for ${address} reach ${hopName(end)} and nothing answers: the guest behind it is silent (stopped or hung, its NIC down, or ${address} not configured on it)`,
    evidence: [
      `${end.arpRequests} ARP requests for ${address} seen at ${hopName(end)}, no ARP reply and no IP packet from ${address}`,
      ...path.candidates.filter(onPath).map((c) => `its backend ${c.ifname}: ${c.why}`),
      ...path.notes.filter((n) => n.startsWith('followed candidate ')),
      ...(others.length ? [`other candidates, captured too: ${others.map((c) => c.ifname).join(', ')}`] : []),
    ],
    fix: [
      '# look at the guest from its console (virsh console, qm terminal, lxc-attach): is it running, is its NIC up, does it hold the address?',
    ],
  };
}
