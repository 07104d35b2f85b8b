import { sh, withRemark } from '../util/shell.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/** A namespace that routes the traffic (a hop reached by a route) does not forward. */
export const ipForwardDisabled: Check = {
  name: 'ip-forward-disabled',
  raises: ['ip-forward-disabled'],
  run({ topology, path, targetAddresses }) {
    // Traffic for the namespace's own address is delivered, not forwarded.
    const routed = path.hops.find((h) => h.via === 'route' && !h.isTarget);
    if (!routed) return [];
    const ns = nsById(topology, routed.netns);
    const v6 = (targetAddresses[0] ?? '').includes(':');
    const value = v6 ? ns?.sysctls?.ipv6_forwarding : ns?.sysctls?.ip_forward;
    if (value !== 0) return [];
    const key = v6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward';
    return [
      {
        id: 'ip-forward-disabled',
        confidence: 0.95,
        device: { netns: routed.netns, ifname: routed.ifname },
        summary: `${routed.netns} must route traffic to ${targetAddresses[0]} out of ${routed.ifname}, but ${key}=0`,
        evidence: [
          `${key} = 0 in ${routed.netns}`,
          `the path enters ${routed.ifname} by routing (hop ${path.hops.indexOf(routed) + 1})`,
        ],
        fix: [withRemark(inNetns(routed.netns, sh`sysctl -w ${`${key}=1`}`), 'and persist it in /etc/sysctl.d/')],
      },
    ];
  },
};
