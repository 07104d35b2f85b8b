import { environmentError, usageError } from '../errors.js';
import type { Interface, Namespace } from '../model/topology.js';

const UPLINK_NAME = /^(eth|en|em|bond|team|p\d|wan|uplink)/;

/**
 * Where outside traffic enters the host: the interface of the default route,
 * or, when that is a bridge, the bridge's physical-looking port (a physical
 * NIC first, then a conventional uplink name such as eth0/eno1/bond0).
 */
export function findUplink(root: Namespace, override?: string): Interface {
  if (override) {
    const iface = root.interfaces.find((i) => i.ifname === override);
    if (!iface) throw usageError(`uplink ${override} not found in ${root.id}`);
    return iface;
  }
  const defaults = root.routes
    .filter((r) => r.dst === 'default' && r.table === 'main' && r.dev)
    .sort((a, b) => (a.family === b.family ? (a.metric ?? 0) - (b.metric ?? 0) : a.family === 'inet' ? -1 : 1));
  for (const route of defaults) {
    let dev = root.interfaces.find((i) => i.ifname === route.dev);
    if (!dev) continue;
    // The host's address on a macvlan of its own uplink (the usual way for the host to
    // reach its macvlan guests): traffic from outside enters by the lower device.
    if (dev.lower && dev.lower.netns === root.id)
      dev = root.interfaces.find((i) => i.ifindex === dev!.lower!.ifindex) ?? dev;
    // The host address on an OVS internal port: the uplink is that bridge's outside port.
    if (dev.ovsBridge && dev.kind === 'tap') {
      const port = bestPort(root.interfaces.filter((i) => i.ovsBridge === dev.ovsBridge && i !== dev));
      if (port) return port;
    }
    if (dev.kind !== 'bridge') return dev;
    const port = bestPort(root.interfaces.filter((i) => i.master === dev.ifname));
    if (port) return port;
    return dev;
  }
  const candidates = root.interfaces.filter((i) => i.kind !== 'loopback' && i.kind !== 'bridge');
  const guess = candidates.find((i) => i.kind === 'physical') ?? candidates.find((i) => UPLINK_NAME.test(i.ifname));
  if (guess) return guess;
  throw environmentError(
    `could not tell the uplink of ${root.id}: it has no default route and no physical NIC`,
    'name it with --uplink IF',
  );
}

function bestPort(ports: Interface[]): Interface | undefined {
  return ports.find((p) => p.kind === 'physical' || p.kind === 'bond') ?? ports.find((p) => UPLINK_NAME.test(p.ifname));
}
