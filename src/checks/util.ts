import type { HopRef } from '../report/schema.js';

export const hopName = (h: Pick<HopRef, 'netns' | 'ifname'> | null | undefined): string => (h ? `${h.netns}/${h.ifname}` : 'nowhere');

/** "ip netns exec NS CMD" when the device is in a named namespace other than the host's. */
export function inNetns(netns: string, argv: string): string {
  return netns === 'host' || netns.startsWith('pid:') || netns.includes(':nsid:') ? argv : `ip netns exec ${netns} ${argv}`;
}
