import { remark, sh, withRemark } from '../util/shell.js';
import { lowerOf, type Interface, type Namespace } from '../model/topology.js';
import { routeDev } from '../path/find.js';
import type { Check } from './types.js';
import { ifaceOf, inNetns } from './util.js';

const DIRECT = new Set(['macvlan', 'macvtap', 'ipvlan']);

/**
 * A guest attached by a macvlan, macvtap or ipvlan to a lower device cannot be
 * reached, by design of those drivers, from:
 * - the lower device's own namespace through the lower device: what the host
 *   sends out of eth0 goes to the wire, and the children only receive what
 *   arrives on eth0 (their rx handler), never what eth0 transmits;
 * - a sibling child in private mode (never, even through a hairpinning
 *   switch), or in VEPA mode unless the switch sends the frame back
 *   (reflective relay / hairpin), which hopdump cannot see.
 * Localized at the lower device, with the mode and the parent as evidence.
 */
export const macvlanIsolation: Check = {
  name: 'macvlan-isolation',
  raises: ['macvlan-isolation'],
  run({ topology, path, correlation, probes, sourceAddresses, passive }) {
    if (passive || probes.length === 0) return [];
    const failed = correlation.loss !== null || probes.some((p) => p.answered < p.sent);
    if (!failed) return [];
    const attachment = path.hops
      .map((h) => ifaceOf(topology, h.netns, h.ifname))
      .find((i): i is Interface => i !== undefined && DIRECT.has(i.kind) && i.lower !== undefined);
    if (!attachment) return [];
    const lower = lowerOf(topology, attachment);
    if (!lower) return [];
    const childNs = topology.namespaces.find((n) => n.interfaces.includes(attachment))!;
    const target = path.target.address;
    const lowerName = `${lower.ns.id}/${lower.iface.ifname}`;
    const childText = `${childNs.id}/${attachment.ifname}: ${attachment.kind} mode ${attachment.mode ?? '?'}, lower device ${lowerName}`;
    const sent = probes.reduce((n, p) => n + p.sent, 0);
    const answered = probes.reduce((n, p) => n + p.answered, 0);
    const probeText = `probes from ${[...new Set(probes.map((p) => p.from))].join(', ')}: ${answered} of ${sent} answered`;
    const device = { netns: lower.ns.id, ifname: lower.iface.ifname };
    for (const src of sourceAddresses) {
      const holders = topology.namespaces.flatMap((ns) =>
        ns.interfaces.filter((i) => i.addresses.some((a) => a.local === src)).map((iface) => ({ ns, iface })),
      );
      // The host itself: a source in the lower device's namespace whose route to the target leaves by the lower device.
      const host = holders.find(
        (h) => h.ns === lower.ns && target !== undefined && routeDev(h.ns, target) === lower.iface.ifname,
      );
      if (host) {
        return [
          {
            id: 'macvlan-isolation',
            confidence: 0.97,
            device,
            summary: `${path.target.query} is on a ${attachment.kind} of ${lowerName}, and the probes come from ${lower.ns.id} itself through ${lower.iface.ifname}: by design, a ${attachment.kind}'s lower device never delivers what its own namespace sends to its children`,
            evidence: [
              childText,
              `the probes' source ${src} is ${host.ns.id}/${host.iface.ifname}'s; ip route get ${target} in ${lower.ns.id}: dev ${lower.iface.ifname} (out to the wire, not to its ${attachment.kind} children)`,
              probeText,
            ],
            fix: hostFix(lower.ns, lower.iface, attachment, target!, src),
          },
        ];
      }
      // A sibling: another child of the same lower device.
      const sibling = holders.find(
        (h) => DIRECT.has(h.iface.kind) && h.iface !== attachment && sameLower(topology, h.iface, lower),
      );
      if (!sibling || attachment.kind === 'ipvlan') continue;
      const modes = [attachment.mode, sibling.iface.mode];
      const mode = modes.includes('private') ? 'private' : modes.includes('vepa') ? 'vepa' : undefined;
      if (!mode) continue;
      const siblingText = `${sibling.ns.id}/${sibling.iface.ifname}: ${sibling.iface.kind} mode ${sibling.iface.mode ?? '?'}, lower device ${lowerName} (the probes' source ${src})`;
      return [
        {
          id: 'macvlan-isolation',
          confidence: mode === 'private' ? 0.96 : 0.85,
          device,
          summary:
            mode === 'private'
              ? `${path.target.query} and the probes' source are ${attachment.kind}s of the same lower device ${lowerName}, in private mode: private children never reach each other`
              : `${path.target.query} and the probes' source are ${attachment.kind}s of ${lowerName} in VEPA mode: their frames go out to the switch and come back only if it hairpins (reflective relay)`,
          evidence: [childText, siblingText, probeText],
          fix: [
            ...[attachment, sibling.iface]
              .filter((i) => i.mode === mode)
              .map((i) => {
                const ns = i === attachment ? childNs : sibling.ns;
                return withRemark(
                  inNetns(ns.id, sh`ip link set dev ${i.ifname} type ${i.kind} mode bridge`),
                  'children in bridge mode reach each other inside the host',
                );
              }),
            '# Docker: docker network create -d macvlan -o parent=DEV -o macvlan_mode=bridge ...; libvirt: <source dev=... mode="bridge"/>',
            ...(mode === 'vepa'
              ? ['# or keep VEPA and enable hairpin (reflective relay) on the switch port behind the lower device']
              : []),
          ],
        },
      ];
    }
    return [];
  },
};

function sameLower(
  topology: Parameters<typeof lowerOf>[0],
  iface: Interface,
  lower: { ns: Namespace; iface: Interface },
): boolean {
  const l = lowerOf(topology, iface);
  return l !== undefined && l.ns === lower.ns && l.iface === lower.iface;
}

/** The documented ways out: a bridge-mode macvlan on the host holding a host address, or a Linux bridge. */
function hostFix(ns: Namespace, lower: Interface, child: Interface, target: string, src: string): string[] {
  const v6 = target.includes(':');
  const prefix = lower.addresses.find((a) => a.local === src)?.prefixlen;
  return [
    withRemark(
      inNetns(ns.id, sh`ip link add mac0 link ${lower.ifname} type macvlan mode bridge`),
      'a macvlan of the host, a sibling of the guests',
    ),
    inNetns(ns.id, `ip addr add <a free address of the host's subnet>/${v6 ? 128 : 32} dev mac0`) +
      (prefix !== undefined ? `    ${remark(`or move ${src}/${prefix} from ${lower.ifname} to mac0`)}` : ''),
    inNetns(ns.id, 'ip link set mac0 up'),
    withRemark(inNetns(ns.id, sh`ip route add ${`${target}/${v6 ? 128 : 32}`} dev mac0`), "or the guests' whole range"),
    `# or attach the guest to a Linux bridge that holds the host's address instead of a direct ${child.kind} attachment (libvirt <interface type='bridge'>, Docker's bridge driver)`,
  ];
}
