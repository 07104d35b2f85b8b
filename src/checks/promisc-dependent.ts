import { sh, withRemark } from '../util/shell.js';
import { lowerChildren } from '../model/topology.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, nsById } from './util.js';

/**
 * Seed 001: frames that carry a destination MAC the receiving device only
 * accepts while promiscuous. Evidence: IFF_PROMISC on path devices that are
 * not bridge ports, neighbour entries pointing at a MAC no device on the
 * path has, and captured frames whose destination MAC is not the device's.
 */
export const promiscDependent: Check = {
  name: 'promisc-dependent',
  raises: ['promisc-dependent'],
  run({ topology, path, correlation, promiscLog }) {
    const causes: Cause[] = [];
    const logLine = (dev: string): string[] => {
      const c = promiscLog?.devices.get(dev);
      if (!c) return [];
      const open = c.entered - c.left;
      return [
        `${promiscLog!.source}: ${dev} entered promiscuous mode ${c.entered}×, left ${c.left}×${open > 0 ? ` (${open} never left: something still holds it)` : ''}`,
      ];
    };
    const macsOnPath = new Set<string>();
    for (const ns of topology.namespaces)
      for (const i of ns.interfaces) if (i.address) macsOnPath.add(i.address.toLowerCase());
    // A neighbour entry on the target side that points at a MAC nobody here has.
    const tns = nsById(topology, path.target.netns);
    for (const n of tns?.neighbours ?? []) {
      const mac = n.lladdr?.toLowerCase();
      if (!mac || macsOnPath.has(mac) || n.state.includes('FAILED')) continue;
      const gw = path.hops.find((h) => h.role === 'router' || h.kind === 'bridge');
      const gwIf = gw ? ifaceOf(topology, gw.netns, gw.ifname) : undefined;
      if (!gwIf || !gwIf.addresses.some((a) => a.local === n.dst)) continue;
      const framesToOld = correlation.target.dstMacs.get(mac) ?? 0;
      causes.push({
        id: 'promisc-dependent',
        confidence: 0.85,
        device: { netns: gw!.netns, ifname: gw!.ifname },
        summary: `${path.target.netns} sends to its gateway ${n.dst} at ${mac}, which is not ${gw!.ifname}'s MAC ${gwIf.address}: ${gw!.ifname} takes those frames only while promiscuous`,
        evidence: [
          `ip neigh in ${path.target.netns}: ${n.dst} lladdr ${mac} ${n.state.join(',')}`,
          `${gw!.netns}/${gw!.ifname} has MAC ${gwIf.address}; promiscuous now: ${gwIf.promisc ? 'yes' : 'no'} (flags 0x${(gwIf.sysfsFlags ?? 0).toString(16)})`,
          ...(framesToOld ? [`${framesToOld} captured frames were addressed to ${mac}`] : []),
          ...logLine(gw!.ifname),
          'tcpdump without -p would put the device in promiscuous mode and make the fault disappear while it runs',
        ],
        fix: [
          withRemark(
            inNetns(
              path.target.netns,
              sh`ip neigh replace ${n.dst} lladdr ${gwIf.address ?? ''} dev ${path.target.ifname}`,
            ),
            `or: ip neigh del ${n.dst} dev ${path.target.ifname}`,
          ),
        ],
      });
    }
    // Devices on the path left promiscuous although they are not bridge ports (nor the
    // lower device of a macvlan/macvtap, which the kernel makes promiscuous for its children's MACs).
    for (const hop of path.hops) {
      const iface = ifaceOf(topology, hop.netns, hop.ifname);
      if (!iface || !iface.promisc || iface.master || iface.ovsBridge) continue;
      if (
        lowerChildren(topology, hop.netns, iface.ifindex).some(
          (c) => c.iface.kind === 'macvlan' || c.iface.kind === 'macvtap',
        )
      )
        continue;
      causes.push({
        id: 'promisc-dependent',
        confidence: 0.4,
        device: { netns: hop.netns, ifname: hop.ifname },
        summary: `${hop.netns}/${hop.ifname} is promiscuous (promiscuity ${iface.promiscuity ?? '?'}): what works now may stop when that ends`,
        evidence: [
          `/sys/class/net/${hop.ifname}/flags = 0x${(iface.sysfsFlags ?? 0).toString(16)} (IFF_PROMISC 0x100 set)`,
          ...logLine(hop.ifname),
        ],
        fix: [
          withRemark(
            inNetns(hop.netns, sh`ip link set ${hop.ifname} promisc off`),
            'after finding who set it (a stray tcpdump?)',
          ),
        ],
      });
    }
    return causes;
  },
};
