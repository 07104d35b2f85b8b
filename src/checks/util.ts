import { sh, withRemark } from '../util/shell.js';
import type { HopRef } from '../model/report.js';

export const hopName = (h: Pick<HopRef, 'netns' | 'ifname'> | null | undefined): string =>
  h ? `${h.netns}/${h.ifname}` : 'nowhere';

/**
 * The command (already written with sh``) run where the device is: "ip netns exec NS CMD" in a
 * named namespace, nsenter for one entered through a process, a remark for a guest's inside.
 */
export function inNetns(netns: string, command: string): string {
  if (netns.startsWith('pid:')) return sh`nsenter --net=${`/proc/${netns.slice(4)}/ns/net`} ` + command;
  if (netns.startsWith('guest:'))
    return withRemark(
      command,
      `inside guest ${netns.slice(6)} (its console, ssh, or virsh qemu-agent-command guest-exec)`,
    );
  return netns === 'host' || netns.includes(':nsid:') ? command : sh`ip netns exec ${netns} ` + command;
}

import type { Interface, Namespace, Topology } from '../model/topology.js';
import type { Path, Hop } from '../model/path.js';
import type { Loss } from '../model/report.js';

export function nsById(t: Topology, id: string): Namespace | undefined {
  return t.namespaces.find((n) => n.id === id);
}

export function ifaceOf(t: Topology, netns: string, ifname: string): Interface | undefined {
  return nsById(t, netns)?.interfaces.find((i) => i.ifname === ifname);
}

/**
 * How directly a device explains the loss: 1 when it is one of the two hops of
 * the loss segment or lies between them on the path, lower further away.
 */
export function proximity(path: Path, loss: Loss | null, netns: string, ifname: string): number {
  if (!loss) return 0.6;
  const idx = (h: { netns: string; ifname: string } | null) =>
    h ? path.hops.findIndex((x) => x.netns === h.netns && x.ifname === h.ifname) : -1;
  const at = path.hops.findIndex((x) => x.netns === netns && x.ifname === ifname);
  const a = idx(loss.lastSeenHop);
  const b = idx(loss.firstMissingHop);
  if (at < 0) {
    // Not a hop (e.g. a veth peer): judge by the hop it hangs off.
    return 0.7;
  }
  const lo = Math.min(a < 0 ? b : a, b < 0 ? a : b);
  const hi = Math.max(a, b);
  if (at >= lo && at <= hi) return 1;
  const dist = Math.min(Math.abs(at - lo), Math.abs(at - hi));
  return Math.max(0.3, 1 - 0.25 * dist);
}

/** The hops that are interfaces of the path, with their model interface. */
export function pathInterfaces(t: Topology, path: Path): Array<{ hop: Hop; iface: Interface }> {
  return path.hops.flatMap((hop) => {
    const iface = ifaceOf(t, hop.netns, hop.ifname);
    return iface ? [{ hop, iface }] : [];
  });
}

/**
 * Whether a listener can take connections to `address`: an IPv4 socket never
 * takes IPv6; an IPv6 socket on :: takes IPv4 too unless it is IPV6_V6ONLY,
 * which /proc/net/tcp6 does not show, so it counts for both.
 */
export function servesFamily(l: { family: 'inet' | 'inet6'; address: string }, address: string): boolean {
  const v6 = address.includes(':');
  if (l.family === 'inet') return !v6 && (l.address === '0.0.0.0' || l.address === address);
  return l.address === '::' || l.address === address;
}
