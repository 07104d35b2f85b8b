import { remark, sh, verbatim } from '../util/shell.js';
import { danglingPatch } from '../model/topology.js';
import { bridgeOf, vsctlCmd } from './ovs-util.js';
import type { Check } from './types.js';
import { hopName, ifaceOf, inNetns, nsById } from './util.js';

/**
 * The path is cut where a device should be a port of a bridge: a backend on
 * no Linux bridge, a Neutron qvo that is no port of the integration bridge,
 * an OVS patch port whose peer is gone.
 */
export const bridgePortMissing: Check = {
  name: 'bridge-port-missing',
  raises: ['bridge-port-missing'],
  run({ topology, path }) {
    if (path.complete) return [];
    const gapIndex = path.hops.findIndex((h) => h.via === 'gap');
    const gap = path.hops[gapIndex];
    const before = path.hops[gapIndex - 1];
    if (!gap || !before || gap.netns !== before.netns) return [];
    if (before.kind === 'bridge') {
      const iface = ifaceOf(topology, gap.netns, gap.ifname);
      const where = iface?.master ? `is a port of ${iface.master}` : 'is not a port of any bridge';
      return [
        {
          id: 'bridge-port-missing',
          confidence: 0.95,
          device: { netns: gap.netns, ifname: gap.ifname },
          summary: `${hopName(gap)} ${where}; the path to ${path.target.query} needs it on ${before.ifname}`,
          evidence: [
            `${before.ifname} ports: ${
              nsById(topology, before.netns)
                ?.bridges.find((b) => b.ifname === before.ifname)
                ?.ports.map((p) => p.ifname)
                .join(', ') || 'none'
            }`,
            `${gap.ifname}: master ${iface?.master ?? 'none'}`,
          ],
          fix: [inNetns(gap.netns, sh`ip link set ${gap.ifname} master ${before.ifname}`)],
        },
      ];
    }
    if (gap.kind === 'bridge' && before.kind !== 'openvswitch') {
      // A chain of bridges cut between two of them: the veth towards the next bridge is on none.
      const iface = ifaceOf(topology, before.netns, before.ifname);
      if (!iface || iface.master) return [];
      const peer = iface.peer?.ifname
        ? ifaceOf(topology, iface.peer.netns ?? before.netns, iface.peer.ifname)
        : undefined;
      return [
        {
          id: 'bridge-port-missing',
          confidence: 0.95,
          device: { netns: before.netns, ifname: before.ifname },
          summary: `${hopName(before)} is not a port of any bridge; the path to ${path.target.query} needs it on ${gap.ifname}, the next bridge of the chain`,
          evidence: [
            `${gap.ifname} ports: ${
              nsById(topology, gap.netns)
                ?.bridges.find((b) => b.ifname === gap.ifname)
                ?.ports.map((p) => p.ifname)
                .join(', ') || 'none'
            }`,
            `${before.ifname}: ${iface.kind}, master none${peer ? `, veth peer ${peer.ifname}${peer.master ? ` on ${peer.master}` : ''}` : ''}`,
          ],
          fix: [inNetns(before.netns, sh`ip link set ${before.ifname} master ${gap.ifname}`)],
        },
      ];
    }
    if (before.kind !== 'openvswitch') return [];
    const ns = nsById(topology, gap.netns);
    const vsctl = vsctlCmd(ns);
    const bridge = bridgeOf(ns, before.ifname);
    const ports =
      bridge?.ports.map((p) => `${p.name}${p.tag !== undefined ? `(tag ${p.tag})` : ''}`).join(', ') || 'none';
    if (gap.kind === 'openvswitch') {
      // A patch pair cut: the gap bridge has a patch port whose peer should be on `before`.
      const patch = ns ? danglingPatch(ns, gap.ifname) : undefined;
      if (!patch) return [];
      const peer = patch.options['peer'] ?? `patch-${gap.ifname}`;
      return [
        {
          id: 'bridge-port-missing',
          confidence: 0.96,
          device: { netns: gap.netns, ifname: gap.ifname },
          summary: `patch port ${patch.name} on ${gap.ifname} has no peer: ${peer} is not a port of ${before.ifname}, so ${gap.ifname} and ${before.ifname} are not joined`,
          evidence: [
            `${vsctl} list Interface ${patch.name}: type patch, options:peer=${peer}, ofport ${patch.ofport}${patch.error ? `, error "${patch.error}"` : ''}`,
            `${before.ifname} ports: ${ports}`,
          ],
          fix: [
            inNetns(
              gap.netns,
              sh`${verbatim(vsctl)} add-port ${before.ifname} ${peer} -- set Interface ${peer} type=patch ${`options:peer=${patch.name}`}`,
            ),
          ],
        },
      ];
    }
    // A Linux device (qvo, vnet) that should be a port of the OVS bridge.
    const iface = ifaceOf(topology, gap.netns, gap.ifname);
    const tags = [
      ...new Set(
        bridge?.ports.filter((p) => p.tag !== undefined && /^(qvo|tap|vnet)/.test(p.name)).map((p) => p.tag!) ?? [],
      ),
    ];
    const peer = iface?.peer?.ifname
      ? `, veth peer ${iface.peer.ifname}${ifaceOf(topology, iface.peer.netns ?? gap.netns, iface.peer.ifname)?.master ? ` on ${ifaceOf(topology, iface.peer.netns ?? gap.netns, iface.peer.ifname)!.master}` : ''}`
      : '';
    const id11 = gap.ifname.match(/^qvo([0-9a-f-]{11})$/)?.[1];
    return [
      {
        id: 'bridge-port-missing',
        confidence: 0.95,
        device: { netns: gap.netns, ifname: gap.ifname },
        summary: `${hopName(gap)} is not a port of ${before.ifname}; the path to ${path.target.query} needs it there`,
        evidence: [
          `${before.ifname} ports: ${ports}`,
          `${gap.ifname}: ${iface?.kind ?? 'device'}${peer}, ${iface?.ovsBridge ? `on ${iface.ovsBridge}` : 'on no bridge'}`,
          ...(id11
            ? [`no Interface on any bridge has external_ids:iface-id starting ${id11} (the Neutron port in its name)`]
            : []),
        ],
        fix: [
          inNetns(
            gap.netns,
            sh`${verbatim(vsctl)} --may-exist add-port ${before.ifname} ${gap.ifname}` +
              (tags.length === 1 ? ` tag=${tags[0]}` : ''),
          ),
          ...(id11
            ? [
                remark(
                  `and give it back its Neutron identity so the agent binds it: ${vsctl} set Interface ${gap.ifname} external_ids:iface-id=<port UUID ${id11}…> external_ids:attached-mac=<MAC> external_ids:vm-uuid=<instance> external_ids:iface-status=active`,
                ),
              ]
            : []),
        ],
      },
    ];
  },
};
