import { sh, withRemark } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, nsById } from './util.js';

/**
 * The target's MAC on another interface (another guest), or learned by a
 * bridge of the path on another port than the one the path leaves it by.
 */
export const macConflict: Check = {
  name: 'mac-conflict',
  raises: ['mac-conflict'],
  run({ topology, path }) {
    const nic = ifaceOf(topology, path.target.netns, path.target.ifname);
    const mac = nic?.address?.toLowerCase();
    if (!nic || !mac || mac === '00:00:00:00:00:00') return [];
    const causes: Cause[] = [];
    // A bridge takes the MAC of one of its ports: a target that is a bridge (a guest whose address
    // is on a bridge inside it) and that bridge's own ports are one station, not two.
    const sameStation = (netns: string, i: { ifname: string; master?: string | undefined }) =>
      netns === path.target.netns && (i.ifname === nic.ifname || i.master === nic.ifname);
    const twins = topology.namespaces.flatMap((ns) =>
      ns.interfaces
        .filter((i) => i.address?.toLowerCase() === mac && !sameStation(ns.id, i) && i.kind !== 'bridge')
        // A guest's macvtap carries the guest's own MAC by design (libvirt direct interfaces).
        .filter((i) => !(i.kind === 'macvtap' && nic.peer?.netns === ns.id && nic.peer.ifindex === i.ifindex))
        .map((i) => ({ ns, iface: i })),
    );
    const fdbMoves: string[] = [];
    for (const [index, hop] of path.hops.entries()) {
      if (hop.kind !== 'bridge') continue;
      const bridge = nsById(topology, hop.netns)?.bridges.find((b) => b.ifname === hop.ifname);
      // The port the path leaves this bridge by: the backend on the last bridge, and on a
      // bridge of a chain the port towards the next bridge (Proxmox's fwprNpM, Neutron's
      // qvb, a veth into a nested bridge), where the guest's MAC is rightly learned.
      const exit = path.hops
        .slice(index + 1)
        .find((h) => h.netns === hop.netns && ifaceOf(topology, h.netns, h.ifname)?.master === hop.ifname);
      if (!bridge || !exit) continue;
      for (const e of bridge.fdb) {
        if (e.mac.toLowerCase() === mac && e.ifname !== exit.ifname && e.state !== 'permanent') {
          fdbMoves.push(
            `${bridge.ifname} learned ${mac} on ${e.ifname}, not on ${exit.ifname}, its port towards the target${exit.role === 'backend' ? ' (the backend)' : ''}`,
          );
        }
      }
    }
    if (twins.length === 0 && fdbMoves.length === 0) return [];
    const twin = twins[0];
    causes.push({
      id: 'mac-conflict',
      confidence: 0.9,
      device: twin
        ? { netns: twin.ns.id, ifname: twin.iface.ifname }
        : { netns: path.target.netns, ifname: nic.ifname },
      summary: twin
        ? `the target's MAC ${mac} is also on ${twin.ns.id}/${twin.iface.ifname}: frames for the target go wherever the bridge learned it last`
        : `${mac} is learned on the wrong bridge port`,
      evidence: [
        ...twins.map(
          (t) =>
            `${t.ns.id}/${t.iface.ifname} has MAC ${t.iface.address} (the target is ${path.target.netns}/${nic.ifname})`,
        ),
        ...fdbMoves,
      ],
      fix: twin
        ? [
            withRemark(
              inNetns(twin.ns.id, sh`ip link set ${twin.iface.ifname} address 02:xx:xx:xx:xx:xx`),
              'a unique MAC for the duplicate (for a VM: its <mac address> in the domain XML)',
            ),
          ]
        : [],
    });
    return causes;
  },
};
