import { sh, withRemark } from '../util/shell.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, pathInterfaces } from './util.js';

/**
 * MTUs along the path (and of veth peers, which drop what exceeds the
 * receiver's MTU: is_skb_forwardable) against the largest path MTU and the
 * probe size; ICMP frag-needed/packet-too-big as evidence.
 */
export const mtuMismatch: Check = {
  name: 'mtu-mismatch',
  raises: ['mtu-mismatch'],
  run({ topology, path, probes, correlation }) {
    const mtus = pathInterfaces(topology, path).map(({ hop, iface }) => ({
      hop,
      mtu: iface.mtu,
      name: `${hop.netns}/${iface.ifname}`,
    }));
    if (mtus.length < 2) return [];
    const max = Math.max(...mtus.map((m) => m.mtu));
    const smallest = mtus.reduce((a, b) => (b.mtu < a.mtu ? b : a));
    const bigProbe = probes.find((p) => p.kind === 'icmp' && p.size !== undefined);
    const bigLost = bigProbe ? bigProbe.answered < bigProbe.sent : false;
    const fragNeeded = correlation.target.icmpErrors.filter(
      (p) => (p.proto === 'icmp' && p.icmpType === 3 && p.icmpCode === 4) || (p.proto === 'icmp6' && p.icmpType === 2),
    );
    if (smallest.mtu >= max && fragNeeded.length === 0) return [];
    const peerOf = ifaceOf(topology, smallest.hop.netns, smallest.hop.ifname)?.peer;
    const evidence = [`MTUs along the path: ${mtus.map((m) => `${m.name} ${m.mtu}`).join(', ')}`];
    if (peerOf?.netns && peerOf.ifname) {
      const peer = ifaceOf(topology, peerOf.netns, peerOf.ifname);
      if (peer)
        evidence.push(
          `veth peer ${peerOf.netns}/${peer.ifname} has MTU ${peer.mtu}: frames larger than the receiver's MTU are dropped`,
        );
    }
    if (bigProbe) evidence.push(`${bigProbe.size}-byte probes with DF: ${bigProbe.answered}/${bigProbe.sent} answered`);
    // IPv6 routers never fragment: a packet larger than the next link's MTU is dropped with ICMPv6 packet-too-big (RFC 8200 §5).
    for (const p of fragNeeded.slice(0, 2))
      evidence.push(
        p.proto === 'icmp6'
          ? `ICMPv6 packet-too-big from ${p.src} (IPv6 routers do not fragment)`
          : `ICMP frag-needed from ${p.src}`,
      );
    return [
      {
        id: 'mtu-mismatch',
        confidence: bigLost || fragNeeded.length ? 0.9 : 0.35,
        device: { netns: smallest.hop.netns, ifname: smallest.hop.ifname },
        summary: `${smallest.name} has MTU ${smallest.mtu} on a path that carries ${max}-byte packets`,
        evidence,
        fix: [
          withRemark(
            inNetns(smallest.hop.netns, sh`ip link set ${smallest.hop.ifname} mtu ${max}`),
            `or lower the MTU of the senders to ${smallest.mtu}`,
          ),
        ],
      },
    ];
  },
};
