import { remark, sh, withRemark } from '../util/shell.js';
import { targetMacOf } from '../model/topology.js';
import type { Check } from './types.js';
import { inNetns } from './util.js';

/** Two MACs answer for the target's address: in the topology, and on the wire. */
export const ipConflict: Check = {
  name: 'ip-conflict',
  raises: ['ip-conflict'],
  run({ topology, path, correlation, targetAddresses }) {
    const addr = targetAddresses[0];
    if (!addr) return [];
    const holders = topology.namespaces.flatMap((ns) =>
      ns.interfaces
        .filter((i) => i.addresses.some((a) => a.local === addr))
        .map((i) => ({ ns: ns.id, ifname: i.ifname, mac: i.address ?? '?' })),
    );
    const answering = correlation.target.arpClaims.get(addr) ?? new Set<string>();
    const ownMac = targetMacOf(topology, path.target.netns, path.target.ifname);
    const strangers = [...correlation.target.replyMacs.entries()].filter(([mac]) => ownMac && mac !== ownMac);
    if (holders.length < 2 && answering.size < 2 && strangers.length === 0) return [];
    const other = holders.find((h) => !(h.ns === path.target.netns && h.ifname === path.target.ifname));
    return [
      {
        id: 'ip-conflict',
        confidence: 0.9,
        device: other
          ? { netns: other.ns, ifname: other.ifname }
          : { netns: path.target.netns, ifname: path.target.ifname },
        summary: `${addr} is claimed by ${Math.max(holders.length, answering.size)} hosts: ${[...new Set([...holders.map((h) => h.mac), ...answering])].join(', ')}`,
        evidence: [
          ...holders.map((h) => `${h.ns}/${h.ifname} (${h.mac}) holds ${addr}`),
          ...(answering.size > 1
            ? [`ARP replies/announcements for ${addr} came from ${[...answering].join(' and ')} during the window`]
            : []),
          ...strangers.map(
            ([mac, n]) =>
              `${n} replies from ${addr} carried MAC ${mac}, not the target's ${ownMac}: another host answered`,
          ),
        ],
        fix: other
          ? [
              withRemark(
                inNetns(other.ns, sh`ip addr del ${`${addr}/PREFIX`} dev ${other.ifname}`),
                'on the host that should not have it',
              ),
            ]
          : [remark(`find the second host with: arping -d -c 3 ${addr}`)],
      },
    ];
  },
};
