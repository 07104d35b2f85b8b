import { remark, sh, withRemark } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { hopName, ifaceOf, inNetns } from './util.js';

const isUnicast = (mac: string) => (parseInt(mac.slice(0, 2), 16) & 1) === 0;

/**
 * Seed 001 in its VM form: the frames for the target reach its tap (or veth)
 * addressed to one MAC, but the guest's NIC has another. A NIC that is not
 * promiscuous drops frames for a MAC that is not its own (PACKET_OTHERHOST;
 * QEMU's virtio-net receive filter drops them before the guest sees them), so
 * the target is reachable exactly while something (tcpdump without -p in the
 * guest) holds the NIC promiscuous. The MAC the frames carry comes from the
 * domain XML (libvirt) or from a neighbour entry for the target's address.
 */
export const guestMacMismatch: Check = {
  name: 'guest-mac-mismatch',
  raises: ['guest-mac-mismatch'],
  run({ topology, path, correlation, targetAddresses }) {
    const loss = correlation.loss;
    const nicHop = path.hops[path.hops.length - 1]!;
    // Only the guest's own NIC: a path that ends at a bridge or a backend (a silent guest, one without
    // an agent) has no NIC whose MAC is known, and a bridge's own MAC is no guest's.
    if (!loss || loss.direction !== 'to-target' || !nicHop.isTarget || nicHop.role !== 'guest-nic') return [];
    if (loss.firstMissingHop?.netns !== nicHop.netns || loss.firstMissingHop.ifname !== nicHop.ifname) return [];
    const nic = ifaceOf(topology, nicHop.netns, nicHop.ifname);
    const nicMac = nic?.address?.toLowerCase();
    if (!nic || !nicMac || nic.promisc) return [];
    const backend = path.hops[path.hops.length - 2];
    // Where a sender's idea of the target's MAC comes from: the domain XML, and neighbour entries.
    const domain = backend
      ? (topology.domains ?? [])
          .flatMap((d) => d.interfaces.map((i) => ({ d, i })))
          .find((x) => x.i.targetDev === backend.ifname)
      : undefined;
    const sources = new Map<string, string[]>();
    const add = (mac: string | undefined, why: string) => {
      const m = mac?.toLowerCase();
      if (!m || m === nicMac || !isUnicast(m)) return;
      sources.set(m, [...(sources.get(m) ?? []), why]);
    };
    if (domain)
      add(
        domain.i.mac,
        `domain ${domain.d.name}'s XML gives its NIC on ${domain.i.targetDev} the MAC ${domain.i.mac} (<mac address=>)`,
      );
    for (const ns of topology.namespaces) {
      for (const n of ns.neighbours) {
        if (targetAddresses.includes(n.dst))
          add(n.lladdr, `ip neigh in ${ns.id}: ${n.dst} lladdr ${n.lladdr} dev ${n.dev} ${n.state.join(',')}`);
      }
    }
    const causes: Cause[] = [];
    for (const [mac, why] of sources) {
      const frames = correlation.target.dstMacs.get(mac) ?? 0;
      if (frames === 0) continue;
      const stale = topology.namespaces.flatMap((ns) =>
        ns.neighbours
          .filter((n) => targetAddresses.includes(n.dst) && n.lladdr?.toLowerCase() === mac)
          .map((n) => ({ ns, n })),
      );
      causes.push({
        id: 'guest-mac-mismatch',
        confidence: 0.95,
        device: { netns: nicHop.netns, ifname: nicHop.ifname },
        summary: `frames for ${targetAddresses[0] ?? 'the target'} reach ${hopName(backend)} addressed to ${mac}, but ${hopName(nicHop)} has MAC ${nicMac}: the NIC drops them unless it is promiscuous`,
        evidence: [
          `${frames} captured frames were addressed to ${mac}; none reached ${hopName(nicHop)} (last seen at ${hopName(loss.lastSeenHop)})`,
          `${hopName(nicHop)} has MAC ${nicMac}${nicHop.netns.startsWith('guest:') ? " (the guest's own ip -j link, through its agent)" : ''}; promiscuous: no`,
          ...why,
          'a NIC takes frames for another MAC only while promiscuous: tcpdump without -p on it makes the fault disappear while it runs (seed 001)',
        ],
        fix: [
          nicHop.netns.startsWith('guest:')
            ? inNetns(nicHop.netns, sh`ip link set dev ${nicHop.ifname} address ${mac}`)
            : withRemark(
                inNetns(nicHop.netns, sh`ip link set dev ${nicHop.ifname} address ${mac}`),
                'back to the MAC the others know',
              ),
          ...(domain
            ? [
                remark(
                  `or, if ${nicMac} is meant: virsh edit ${domain.d.name} (<mac address='${nicMac}'/>), then correct the neighbour entries`,
                ),
              ]
            : []),
          ...stale
            .filter((x) => x.n.state.includes('PERMANENT'))
            .map((x) =>
              withRemark(
                inNetns(x.ns.id, sh`ip neigh replace ${x.n.dst} lladdr ${nicMac} dev ${x.n.dev}`),
                `if ${nicMac} is meant`,
              ),
            ),
        ],
      });
    }
    return causes;
  },
};
