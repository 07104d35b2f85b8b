import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestMacMismatch } from '../../src/checks/guest-mac-mismatch.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { HopPacket } from '../../src/model/packet.js';
import type { Path } from '../../src/model/path.js';
import type { Cause } from '../../src/model/report.js';

/**
 * Frames for the target carry the MAC a neighbour entry gives it and stop before the last hop.
 * That hop is the guest's NIC with another MAC: guest-mac-mismatch. It is a bridge (a silent
 * guest's path, or one whose guest has no agent, ending at the bridge): not a NIC, no cause.
 */
const hop = (netns: string, ifname: string, kind: string, role: string, isTarget = false) => ({
  netns,
  ifname,
  kind,
  role,
  seesTransit: true,
  isTarget,
  via: 'veth',
  mtu: 1500,
  addresses: [],
});
let t = 1n;
const echo = (h: number): HopPacket => ({
  hop: h,
  tsNs: (t += 1000n),
  fp: 'echo',
  natFp: 'echo',
  kind: 'ipv4',
  proto: 'icmp',
  icmpType: 8,
  src: '192.0.2.100',
  dst: '192.0.2.11',
  dstMac: '52:54:00:00:00:11',
  length: 98,
  data: new Uint8Array(0),
  summary: 'echo',
  linkType: 1,
});

function run(last: ReturnType<typeof hop>, lastIface: { ifname: string; address: string }): Cause[] {
  const hops = [
    hop('hv', 'eth0', 'veth', 'uplink'),
    hop('hv', 'vnet0', 'tap', 'backend'),
    last,
  ] as unknown as Path['hops'];
  const path = {
    hops,
    target: { query: '192.0.2.11', netns: last.netns, ifname: last.ifname, address: '192.0.2.11' },
  } as unknown as Path;
  const correlation = correlate({
    hops,
    observed: [true, true, true],
    packets: [echo(0), echo(1)],
    targetAddresses: ['192.0.2.11'],
    probeAddresses: [],
    nat: false,
    sourceAddresses: ['192.0.2.100'],
  });
  const topology = {
    namespaces: [
      { id: last.netns, interfaces: [{ ...lastIface, promisc: false, adminUp: true, addresses: [] }], neighbours: [] },
      {
        id: 'client',
        interfaces: [],
        neighbours: [{ dst: '192.0.2.11', lladdr: '52:54:00:00:00:11', dev: 'eth0', state: ['PERMANENT'] }],
      },
    ],
  } as never;
  return guestMacMismatch.run({
    topology,
    path,
    correlation,
    probes: [],
    targetAddresses: ['192.0.2.11'],
    probesFromOutside: true,
    passive: false,
    sourceAddresses: ['192.0.2.100'],
  }) as Cause[];
}

test("the guest's NIC has another MAC than the frames carry: guest-mac-mismatch", () => {
  const causes = run(hop('guest:vm1', 'eth0', 'virtio', 'guest-nic', true), {
    ifname: 'eth0',
    address: '52:54:00:00:00:99',
  });
  assert.deepEqual(
    causes.map((c) => c.id),
    ['guest-mac-mismatch'],
  );
});

test("a path that ends at a bridge is no guest NIC: the bridge's own MAC is no mismatch", () => {
  assert.deepEqual(
    run(hop('hv', 'br0', 'bridge', 'bridge', true), { ifname: 'br0', address: '02:00:00:00:00:01' }),
    [],
  );
});
