import type { Cause } from '../report/schema.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns, nsById } from './util.js';

/**
 * The target's MAC on another interface (another guest), or learned by a
 * bridge on a port that is not the target's backend.
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
        .map((i) => ({ ns, iface: i })),
    );
    const backend = path.hops.find((h) => h.role === 'backend');
    const fdbMoves: string[] = [];
    for (const hop of path.hops.filter((h) => h.kind === 'bridge')) {
      const bridge = nsById(topology, hop.netns)?.bridges.find((b) => b.ifname === hop.ifname);
      for (const e of bridge?.fdb ?? []) {
        if (e.mac.toLowerCase() === mac && backend && e.ifname !== backend.ifname && e.state !== 'permanent') {
          fdbMoves.push(`${bridge!.ifname} learned ${mac} on ${e.ifname}, not on the target's backend ${backend.ifname}`);
        }
      }
    }
    if (twins.length === 0 && fdbMoves.length === 0) return [];
    const twin = twins[0];
    causes.push({
      id: 'mac-conflict',
      confidence: 0.9,
      device: twin ? { netns: twin.ns.id, ifname: twin.iface.ifname } : { netns: path.target.netns, ifname: nic.ifname },
      summary: twin
        ? `the target's MAC ${mac} is also on ${twin.ns.id}/${twin.iface.ifname}: frames for the target go wherever the bridge learned it last`
        : `${mac} is learned on the wrong bridge port`,
      evidence: [...twins.map((t) => `${t.ns.id}/${t.iface.ifname} has MAC ${t.iface.address} (the target is ${path.target.netns}/${nic.ifname})`), ...fdbMoves],
      fix: twin ? [inNetns(twin.ns.id, `ip link set ${twin.iface.ifname} address 02:xx:xx:xx:xx:xx`) + '    # a unique MAC for the duplicate (for a VM: its <mac address> in the domain XML)'] : [],
    });
    return causes;
  },
};
