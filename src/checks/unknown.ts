import { remark } from '../util/shell.js';
import type { Check } from './types.js';
import { hopName } from './util.js';

/**
 * The located fallback: where packets stop, when no check explains it. The
 * registry keeps it only when nothing else names the same segment.
 */
export const unknownLocated: Check = {
  name: 'unknown',
  raises: ['unknown'],
  run({ correlation, targetAddresses }) {
    const loss = correlation.loss;
    if (!loss) return [];
    const device = loss.firstMissingHop ?? loss.lastSeenHop;
    const what =
      loss.direction === 'to-target' ? `packets to ${targetAddresses[0]}` : `replies from ${targetAddresses[0]}`;
    const seg = correlation.segments[0];
    return [
      {
        id: 'unknown',
        confidence: 0.1,
        device: device ? { netns: device.netns, ifname: device.ifname } : null,
        // No hop saw them: say so rather than "between nowhere and ...".
        summary: loss.lastSeenHop
          ? `${what} stop between ${hopName(loss.lastSeenHop)} and ${hopName(loss.firstMissingHop)}; no check explains why`
          : `${what} were seen at no hop, from ${hopName(loss.firstMissingHop)} on; no check explains why`,
        evidence: [
          seg
            ? `${seg.packets} packet${seg.packets === 1 ? '' : 's'} seen at ${hopName(seg.lastSeenHop)} never appeared at ${hopName(seg.firstMissingHop)}`
            : `${what}: ${loss.lastSeenHop ? `last seen at ${hopName(loss.lastSeenHop)}` : 'seen at no hop'}, missing from ${hopName(loss.firstMissingHop)} on`,
        ],
        fix: [
          loss.lastSeenHop
            ? remark(
                `inspect what lies between ${hopName(loss.lastSeenHop)} and ${hopName(loss.firstMissingHop)}: firewall, tc, bridge state`,
              )
            : remark(
                `inspect what lies before ${hopName(loss.firstMissingHop)}: firewall, tc, bridge state, and the sender`,
              ),
        ],
      },
    ];
  },
};
