import type { Cause } from '../report/schema.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, pathInterfaces, proximity } from './util.js';

/** A device on the path, or the veth peer it depends on, is down or has no carrier. */
export const linkDown: Check = {
  name: 'link-down',
  raises: ['link-down'],
  run({ topology, path, correlation }) {
    const causes: Cause[] = [];
    for (const { hop, iface } of pathInterfaces(topology, path)) {
      const peer = iface.peer?.netns && iface.peer.ifname ? ifaceOf(topology, iface.peer.netns, iface.peer.ifname) : undefined;
      const problems: Array<{ netns: string; ifname: string; text: string; fix: string }> = [];
      if (!iface.adminUp) {
        problems.push({ netns: hop.netns, ifname: iface.ifname, text: `${hop.netns}/${iface.ifname} is administratively down (no UP flag)`, fix: inNetns(hop.netns, `ip link set ${iface.ifname} up`) });
      } else if (!iface.carrier && iface.kind !== 'bridge') {
        const why = peer && !peer.adminUp ? `its veth peer ${iface.peer!.netns}/${peer.ifname} is down` : 'no carrier';
        problems.push({ netns: hop.netns, ifname: iface.ifname, text: `${hop.netns}/${iface.ifname} is up but has no carrier (operstate ${iface.operstate}): ${why}`, fix: peer && !peer.adminUp ? inNetns(iface.peer!.netns!, `ip link set ${peer.ifname} up`) : `# check the cable/peer of ${iface.ifname}` });
      }
      for (const p of problems) {
        causes.push({
          id: 'link-down',
          confidence: 0.95 * proximity(path, correlation.loss, hop.netns, hop.ifname),
          device: { netns: p.netns, ifname: p.ifname },
          summary: p.text,
          evidence: [`ip link show ${p.ifname}: flags ${iface.flags.join(',') || '-'}, operstate ${iface.operstate}, carrier ${iface.carrier ? 1 : 0}`],
          fix: [p.fix],
        });
      }
    }
    return causes;
  },
};
