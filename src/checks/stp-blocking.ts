import { remark, sh } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { inNetns, nsById, pathInterfaces, proximity } from './util.js';

/** A bridge port on the path is not forwarding (disabled, listening, learning, blocking). */
export const stpBlocking: Check = {
  name: 'stp-blocking',
  raises: ['stp-blocking'],
  run({ topology, path, correlation }) {
    const causes: Cause[] = [];
    for (const { hop, iface } of pathInterfaces(topology, path)) {
      const state = iface.bridgePort?.state;
      if (!state || state === 'forwarding' || !iface.adminUp) continue;
      const bridge = nsById(topology, hop.netns)?.bridges.find((b) => b.ifname === iface.master);
      causes.push({
        id: 'stp-blocking',
        confidence: 0.95 * proximity(path, correlation.loss, hop.netns, hop.ifname),
        device: { netns: hop.netns, ifname: hop.ifname },
        summary: `bridge port ${hop.netns}/${hop.ifname} is in STP state ${state}, not forwarding`,
        evidence: [
          `bridge link show dev ${hop.ifname}: state ${state}`,
          bridge
            ? `${bridge.ifname}: STP ${bridge.stp ? 'on' : 'off'} (stp_state ${bridge.stp_state}), forward delay ${bridge.forward_delay}s`
            : `master ${iface.master}`,
        ],
        fix: [
          bridge?.stp && (state === 'listening' || state === 'learning')
            ? remark(
                `wait ${bridge.forward_delay * 2}s for STP, or: ${inNetns(hop.netns, sh`ip link set ${bridge.ifname} type bridge forward_delay 400`)}`,
              )
            : inNetns(hop.netns, sh`bridge link set dev ${hop.ifname} state 3`),
        ],
      });
    }
    return causes;
  },
};
