import { sh, withRemark } from '../util/shell.js';
import { routeDev } from '../path/find.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * A namespace on the path that has no route for the packets it must send:
 * towards the target from a routing hop, or back to the sender from the
 * target (SKB_DROP_REASON_IP_OUTNOROUTES for the reply).
 */
export const noRoute: Check = {
  name: 'no-route',
  raises: ['no-route'],
  run({ topology, path, sourceAddresses, targetAddresses }) {
    const causes: Cause[] = [];
    const target = path.hops[path.hops.length - 1]!;
    // The reply's family is the probe's: an IPv6 target needs an IPv6 route back.
    const v6 = (targetAddresses[0] ?? '').includes(':');
    const src = sourceAddresses.find((s) => s.includes(':') === v6);
    const tns = nsById(topology, target.netns);
    // A NIC that is down has lost its routes with it: that is link-down/guest-nic-down's to name.
    const nicDown = tns?.interfaces.find((i) => i.ifname === target.ifname)?.adminUp === false;
    if (src && tns?.collected && !tns.isRoot && !nicDown && routeDev(tns, src) === undefined) {
      causes.push({
        id: 'no-route',
        confidence: 0.9,
        device: { netns: target.netns, ifname: target.ifname },
        summary: `${target.netns} has no route back to ${src}: the target cannot send its replies`,
        evidence: [
          `routes in ${target.netns}: ${
            tns.routes
              .filter((r) => r.table === 'main' && r.family === (v6 ? 'inet6' : 'inet'))
              .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`)
              .join('; ') || 'none'
          }`,
        ],
        fix: [
          withRemark(
            inNetns(target.netns, `ip ${v6 ? '-6 ' : ''}` + sh`route add default via GATEWAY dev ${target.ifname}`),
            'the gateway of its subnet',
          ),
        ],
      });
    }
    const dst = targetAddresses[0];
    const root = path.hops[0];
    const rns = root ? nsById(topology, root.netns) : undefined;
    if (dst && rns && !path.complete && routeDev(rns, dst) === undefined) {
      causes.push({
        id: 'no-route',
        confidence: 0.85,
        device: { netns: root!.netns, ifname: root!.ifname },
        summary: `${root!.netns} has no route to ${dst}`,
        evidence: [`ip route get ${dst} in ${root!.netns}: no route`],
        fix: [inNetns(root!.netns, sh`ip route add ${dst} dev DEVICE`)],
      });
    }
    return causes;
  },
};
