import { sh, withRemark } from '../util/shell.js';
import type { Check } from './types.js';
import { hopName } from './util.js';

/** Nothing for the target reached the uplink: the problem is before this host. */
export const upstreamNoTraffic: Check = {
  name: 'upstream-no-traffic',
  raises: ['upstream-no-traffic'],
  run({ correlation, path, probes, probesFromOutside, targetAddresses }) {
    const loss = correlation.loss;
    const uplink = path.hops[0];
    if (!loss || !uplink || loss.direction !== 'to-target' || loss.lastSeenHop !== null) return [];
    if (loss.firstMissingHop?.ifname !== uplink.ifname || loss.firstMissingHop.netns !== uplink.netns) return [];
    if (!probesFromOutside && probes.length > 0) return [];
    // Anything at all from the sender at the uplink (even unanswered ARP) means the traffic arrived.
    const atUplink = correlation.hopCounts[0];
    if (atUplink && atUplink.toTarget + atUplink.arpRequests > 0) return [];
    const sent = probes.reduce((s, p) => s + p.sent, 0);
    const addr = targetAddresses[0] ?? path.target.query;
    return [
      {
        id: 'upstream-no-traffic',
        confidence: 0.8,
        device: { netns: uplink.netns, ifname: uplink.ifname },
        summary: `no packet for ${addr} reached the uplink ${hopName(uplink)}: the traffic is lost before this host`,
        evidence: [
          `capture on ${hopName(uplink)} (uplink) saw 0 packets to ${addr}${probes.length ? ` while ${sent} probe packets were sent` : ''}`,
          ...probes.map((p) => `probe from ${p.from}: ${p.command} → ${p.detail}`),
        ],
        fix: [
          withRemark(sh`ip route get ${addr}`, 'on the sender and on each router towards this host'),
          withRemark(
            sh`tcpdump -pni ${uplink.ifname} -- host ${addr}`,
            'on the upstream switch/router port facing this host',
          ),
        ],
      },
    ];
  },
};
