import { lowerOf } from '../model/topology.js';
import { remark, sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import { ovsEnv } from './ovs-util.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, nsById, pathInterfaces, proximity } from './util.js';

/** A device on the path, or the veth peer it depends on, is down or has no carrier. */
export const linkDown: Check = {
  name: 'link-down',
  raises: ['link-down', 'guest-nic-down'],
  run({ topology, path, correlation }) {
    const causes: Cause[] = [];
    for (const { hop, iface } of pathInterfaces(topology, path)) {
      // An OVS bridge hop is the datapath, not its internal port of the same name.
      if (hop.kind === 'openvswitch') continue;
      const peer =
        iface.peer?.netns && iface.peer.ifname ? ifaceOf(topology, iface.peer.netns, iface.peer.ifname) : undefined;
      const problems: Array<{ netns: string; ifname: string; text: string; fix: string; evidence?: string }> = [];
      // An Open vSwitch port: OVSDB's view (admin_state, link_state, ofport -1, error).
      if (iface.ovsBridge) {
        const ovsIf = nsById(topology, hop.netns)
          ?.ovs?.bridges.find((b) => b.name === iface.ovsBridge)
          ?.ports.flatMap((p) => p.interfaces)
          .find((i) => i.name === iface.ifname);
        const env = ovsEnv(nsById(topology, hop.netns));
        if (ovsIf?.admin_state === 'down') {
          problems.push({
            netns: hop.netns,
            ifname: iface.ifname,
            evidence: `ovs-vsctl list Interface ${iface.ifname}: admin_state ${ovsIf.admin_state}, link_state ${ovsIf.link_state ?? '?'}, ofport ${ovsIf.ofport}`,
            text: `OVS port ${iface.ifname} on ${iface.ovsBridge} is administratively down (admin_state down)`,
            fix: inNetns(hop.netns, sh`${verbatim(env)}ovs-ofctl mod-port ${iface.ovsBridge} ${iface.ifname} up`),
          });
        } else if (ovsIf && ovsIf.ofport < 0) {
          problems.push({
            netns: hop.netns,
            ifname: iface.ifname,
            evidence: `ovs-vsctl list Interface ${iface.ifname}: ofport -1${ovsIf.error ? `, error "${ovsIf.error}"` : ''}`,
            text: `OVS could not attach ${iface.ifname} to ${iface.ovsBridge} (ofport -1${ovsIf.error ? `: ${ovsIf.error}` : ''})`,
            fix: remark(ovsIf.error ?? 'check ovs-vswitchd.log'),
          });
        }
      }
      // OVS sets the device down itself: its own state is the cause to name.
      if (problems.length === 0) {
        if (!iface.adminUp) {
          problems.push({
            netns: hop.netns,
            ifname: iface.ifname,
            text: `${hop.netns}/${iface.ifname} is administratively down (no UP flag)`,
            fix: inNetns(hop.netns, sh`ip link set ${iface.ifname} up`),
          });
        } else if (!iface.carrier && iface.kind !== 'bridge') {
          // A macvlan/macvtap/ipvlan has the carrier of its lower device (operstate LOWERLAYERDOWN).
          const lower = iface.lower ? lowerOf(topology, iface) : undefined;
          const lowerName = lower ? `${lower.ns.id}/${lower.iface.ifname}` : '';
          const why =
            peer && !peer.adminUp
              ? `its veth peer ${iface.peer!.netns}/${peer.ifname} is down`
              : lower && !lower.iface.adminUp
                ? `its lower device ${lowerName} is down`
                : lower && !lower.iface.carrier
                  ? `its lower device ${lowerName} has no carrier`
                  : 'no carrier';
          const fix =
            peer && !peer.adminUp
              ? inNetns(iface.peer!.netns!, sh`ip link set ${peer.ifname} up`)
              : lower && !lower.iface.adminUp
                ? inNetns(lower.ns.id, sh`ip link set ${lower.iface.ifname} up`)
                : lower && !lower.iface.carrier
                  ? remark(`${lowerName} has no carrier: see it (its cable or veth peer)`)
                  : remark(`check the cable/peer of ${iface.ifname}`);
          problems.push({
            netns: hop.netns,
            ifname: iface.ifname,
            text: `${hop.netns}/${iface.ifname} is up but has no carrier (operstate ${iface.operstate}): ${why}`,
            fix,
          });
        }
      }
      for (const p of problems) {
        // The target's own NIC down inside its guest: nothing on the host can fix that (seed 000: ifdown/ifup in the guest).
        const guestNic =
          hop.isTarget &&
          hop.role === 'guest-nic' &&
          p.netns === hop.netns &&
          p.ifname === hop.ifname &&
          !iface.adminUp;
        if (guestNic) {
          causes.push({
            id: 'guest-nic-down',
            confidence: 0.97,
            device: { netns: p.netns, ifname: p.ifname },
            summary: `the target's own NIC ${hop.netns}/${hop.ifname} is down inside the guest: frames reach its backend and go nowhere`,
            evidence: [
              `${hop.netns.startsWith('guest:') ? 'guest agent: ' : ''}ip link show ${p.ifname}: flags ${iface.flags.join(',') || '-'}, operstate ${iface.operstate}`,
              ...(peer ? [`its backend ${iface.peer!.netns}/${peer.ifname} is ${peer.adminUp ? 'up' : 'down'}`] : []),
            ],
            fix: [
              inNetns(hop.netns, sh`ip link set ${p.ifname} up`),
              remark(`or, as the guest's own tools do it: ifdown ${p.ifname}; ifup ${p.ifname}`),
            ],
          });
          continue;
        }
        causes.push({
          id: 'link-down',
          confidence: 0.95 * proximity(path, correlation.loss, hop.netns, hop.ifname),
          device: { netns: p.netns, ifname: p.ifname },
          summary: p.text,
          evidence: [
            p.evidence ??
              `ip link show ${p.ifname}: flags ${iface.flags.join(',') || '-'}, operstate ${iface.operstate}, carrier ${iface.carrier ? 1 : 0}`,
          ],
          fix: [p.fix],
        });
      }
    }
    return causes;
  },
};
