import { sh, withRemark } from '../util/shell.js';
import type { Namespace } from '../model/topology.js';
import { routeDev } from '../path/find.js';
import type { Cause } from '../model/report.js';
import type { Check, CheckContext } from './types.js';
import { hopName, inNetns, nsById } from './util.js';

/**
 * Neighbour resolution fails at the guest, in either of its two forms:
 * - seed 000: requests reach the guest's NIC, and the guest only asks who-has
 *   for the peer it must answer; it never sends the reply;
 * - the sender cannot resolve the target: its ARP requests (IPv6: neighbour
 *   solicitations) reach the guest's NIC and nothing answers them, so no IP
 *   packet is ever sent. What the guest's state says about why (arp_ignore,
 *   arp_filter, the address not on that NIC, an ARP firewall) is evidence; a
 *   firewall rule whose counter rose is firewall-drop's, and outranks this.
 */
export const guestArpUnresolved: Check = {
  name: 'guest-arp-unresolved',
  raises: ['guest-arp-unresolved'],
  run(ctx) {
    const silent = silentGuest(ctx.path, ctx.correlation, ctx.targetAddresses[0]);
    if (silent) return [silent];
    return [...askingPeer(ctx), ...unanswered(ctx)];
  },
};

function askingPeer({ correlation, path, targetAddresses }: CheckContext): Cause[] {
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
        withRemark(
          inNetns(nic.netns, sh`ip neigh show dev ${nic.ifname}`),
          'inside the guest: is the peer FAILED/INCOMPLETE?',
        ),
        withRemark(
          inNetns(nic.netns, sh`ip link set ${nic.ifname} down && ip link set ${nic.ifname} up`),
          'inside the guest (seed 000)',
        ),
        '# check ARP filtering inside the guest (nft list ruleset | grep -A3 "table arp"; arptables -L) and the NIC driver in dmesg',
      ],
    },
  ];
}

function unanswered({ correlation, path, topology, targetAddresses, sourceAddresses }: CheckContext): Cause[] {
  const t = correlation.target;
  // No IP towards the target at all: the sender is stuck resolving it. (What the
  // target sends on its own, an IGMP report from its address, says nothing about that.)
  const toTarget = correlation.complete['to-target'] + correlation.incomplete['to-target'];
  if (t.arpRequestsForTargetAtEnd === 0 || t.arpRepliesFromTarget > 0 || toTarget > 0 || t.requestsAtTargetNic > 0)
    return [];
  const nic = path.hops[path.hops.length - 1]!;
  const reached = correlation.loss?.firstMissingHop ?? nic;
  const addr = targetAddresses[0] ?? path.target.query;
  const v6 = addr.includes(':');
  const what = v6 ? 'neighbour solicitations' : 'ARP requests';
  const ns = nsById(topology, path.target.netns);
  const reasons = ns ? guestReasons(ns, path.target.ifname, addr, sourceAddresses) : [];
  return [
    {
      id: 'guest-arp-unresolved',
      confidence: reasons.length > 0 ? 0.9 : 0.7,
      device: { netns: nic.netns, ifname: nic.ifname },
      summary: `${what} for ${addr} reached ${hopName(reached)} and the target never answered${reasons[0] ? `: ${reasons[0]}` : ''}`,
      evidence: [
        `${what} for ${addr} (${t.arpRequestsForTargetAtEnd} distinct; retransmissions are identical) reached ${hopName(reached)}; no ${v6 ? 'neighbour advertisement' : 'ARP reply'} from ${addr} anywhere on the path, and no IP packet to it`,
        ...reasons,
      ],
      fix: v6
        ? [
            withRemark(
              inNetns(nic.netns, sh`ip -6 addr show dev ${nic.ifname}`),
              `inside the guest: does it hold ${addr}?`,
            ),
            withRemark(
              inNetns(nic.netns, 'nft list ruleset'),
              'inside the guest: an ip6/inet rule dropping icmpv6 nd-neighbor-solicit?',
            ),
          ]
        : [
            withRemark(
              inNetns(nic.netns, sh`ip -4 addr show dev ${nic.ifname}`),
              `inside the guest: does it hold ${addr}?`,
            ),
            inNetns(
              nic.netns,
              sh`sysctl net.ipv4.conf.all.arp_ignore ${`net.ipv4.conf.${nic.ifname}.arp_ignore`} net.ipv4.conf.all.arp_filter`,
            ),
            withRemark(
              inNetns(nic.netns, 'nft list ruleset'),
              'inside the guest: a "table arp" chain dropping requests? (arptables -L)',
            ),
          ],
    },
  ];
}

/** What the guest's own state says about why it does not answer (ip-sysctl.rst: arp_ignore, arp_filter). */
function guestReasons(ns: Namespace, ifname: string, addr: string, sources: string[]): string[] {
  const out: string[] = [];
  const iface = ns.interfaces.find((i) => i.ifname === ifname);
  if (iface && !iface.adminUp) out.push(`${ns.id}/${ifname} is administratively down`);
  const onNic = iface?.addresses.some((a) => a.local === addr) ?? false;
  const holder = ns.interfaces.find((i) => i.addresses.some((a) => a.local === addr));
  if (iface && !onNic)
    out.push(
      holder ? `${addr} is on ${ns.id}/${holder.ifname}, not on ${ifname}` : `${addr} is not configured in ${ns.id}`,
    );
  if (!addr.includes(':') && ns.sysctls) {
    // The effective arp_ignore is the maximum of conf/all and conf/DEV; arp_filter is their OR.
    const ignore = Math.max(ns.sysctls.arp_ignore['all'] ?? 0, ns.sysctls.arp_ignore[ifname] ?? 0);
    const filter = (ns.sysctls.arp_filter['all'] ?? 0) | (ns.sysctls.arp_filter[ifname] ?? 0);
    if (ignore === 8)
      out.push(
        `net.ipv4.conf.${ns.sysctls.arp_ignore[ifname] === 8 ? ifname : 'all'}.arp_ignore=8: the guest answers no ARP request at all`,
      );
    else if (ignore >= 1 && ignore <= 3 && !onNic && holder)
      out.push(
        `arp_ignore=${ignore}: the guest answers only for addresses on the receiving NIC, and ${addr} is on ${holder.ifname}`,
      );
    const back = sources.find((s) => !s.includes(':'));
    const backDev = back ? routeDev(ns, back) : undefined;
    if (filter && back && backDev && backDev !== ifname)
      out.push(
        `arp_filter=1 and the route back to ${back} goes out of ${backDev}, not ${ifname}: the guest ignores the request`,
      );
  }
  for (const chain of ns.firewall?.nft ?? []) {
    if (!(v6Family(addr) ? ['ip6', 'inet', 'netdev'] : ['arp']).includes(chain.family)) continue;
    if (chain.policy === 'drop' && chain.hook)
      out.push(`nft ${chain.family} ${chain.table} ${chain.chain} in ${ns.id} has policy drop (hook ${chain.hook})`);
  }
  return out;
}

const v6Family = (addr: string) => addr.includes(':');

/**
 * A silent guest found from its prefix (the path has candidates): ARP
 * requests for its address reach its backend and nothing answers, and no IP
 * packet is seen from it. Nothing better is known from outside the guest.
 */
function silentGuest(
  path: CheckContext['path'],
  correlation: CheckContext['correlation'],
  address: string | undefined,
): Cause | undefined {
  if (!path.candidates || !address) return undefined;
  const last = correlation.hopCounts.length - 1;
  const end = correlation.hopCounts[last];
  if (!end || !end.observed || end.arpRequests === 0 || end.arpReplies > 0 || correlation.target.ipFromTarget > 0)
    return undefined;
  if (correlation.loss?.direction !== 'from-target' || correlation.loss.firstMissingHop?.ifname !== end.ifname)
    return undefined;
  const onPath = (c: { netns: string; ifname: string }) =>
    path.hops.some((h) => h.netns === c.netns && h.ifname === c.ifname);
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
