import type { Check } from './types.js';
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
