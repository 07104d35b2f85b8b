import type { LabFault } from '../types.js';

/**
 * Seed 001: the container's frames to its gateway carry a MAC that is not
 * docker0's (left over after the virtualisation layer rewrote it). A host
 * rule (netdev ingress on docker0) accepts that MAC, but a bridge passes a
 * frame for a foreign MAC up to its own device only while it is promiscuous
 * (br_handle_frame_finish: local_rcv = dev->flags & IFF_PROMISC). So the
 * container is reachable exactly while something (tcpdump) holds docker0 in
 * promiscuous mode.
 */
export const OLD_GATEWAY_MAC = '02:42:cb:00:71:99';

/**
 * Seed 001's host rule: a netdev ingress chain on DEVICE that takes frames for
 * MAC as the host's own. It only sees them while DEVICE is promiscuous (a
 * bridge or a NIC's receive filter drops them before ingress otherwise).
 */
export function macFixRuleset(device: string, mac: string): string {
  return [
    'table netdev hd_macfix {',
    `  chain ${device}_in {`,
    `    type filter hook ingress device "${device}" priority 0;`,
    `    ether daddr ${mac} meta pkttype set host`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export const promiscDependent: LabFault = {
  name: 'promisc-dependent',
  cause: 'promisc-dependent',
  topology: 'routed',
  description: `ct1 sends to its gateway's old MAC ${OLD_GATEWAY_MAC}: works only while docker0 is promiscuous`,
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1' },
  // The stale neighbour entry is on eth0: behind a bridge or a macvlan inside the container, routes
  // use that device and its own neighbour table.
  variantExcludes: {
    guestBridge: ['br0', 'docker0', 'lxdbr0', 'virbr0'],
    guestMacvlan: ['macvlan0', 'mac0', 'macvlan-shim'],
  },
  async apply(lab) {
    await lab.run('ct1', [
      'ip',
      'neigh',
      'replace',
      '203.0.113.1',
      'lladdr',
      OLD_GATEWAY_MAC,
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    // The same stale MAC for the IPv6 gateway (a neighbour entry is a neighbour entry, ARP or NDP).
    await lab.run('ct1', [
      'ip',
      '-6',
      'neigh',
      'replace',
      '2001:db8:7113::1',
      'lladdr',
      OLD_GATEWAY_MAC,
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    await lab.run('hv', ['nft', '-f', '-'], { input: macFixRuleset('docker0', OLD_GATEWAY_MAC) });
  },
};
