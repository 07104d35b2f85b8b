import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestNoReply } from '../../src/checks/guest-no-reply.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { HopPacket } from '../../src/model/packet.js';
import type { Path } from '../../src/model/path.js';
import type { Cause } from '../../src/model/report.js';

const hop = (netns: string, ifname: string, role: string, isTarget = false) => ({
  netns,
  ifname,
  kind: 'tap',
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
  length: 98,
  data: new Uint8Array(0),
  summary: 'echo',
  linkType: 1,
});

function run(hops: Path['hops']): Cause[] {
  const last = hops[hops.length - 1]!;
  const path = {
    hops,
    target: { query: '192.0.2.11', netns: last.netns, ifname: last.ifname, address: '192.0.2.11' },
  } as unknown as Path;
  const correlation = correlate({
    hops,
    observed: hops.map(() => true),
    packets: hops.map((_, i) => echo(i)),
    targetAddresses: ['192.0.2.11'],
    probeAddresses: [],
    nat: false,
    sourceAddresses: ['192.0.2.100'],
  });
  return guestNoReply.run({
    topology: { namespaces: [] } as never,
    path,
    correlation,
    probes: [],
    targetAddresses: ['192.0.2.11'],
    probesFromOutside: true,
    passive: false,
    sourceAddresses: ['192.0.2.100'],
  }) as Cause[];
}

test("requests reach the guest's own NIC and nothing comes back: the commands run in the guest's namespace", () => {
  const [cause] = run([
    hop('hv', 'eth0', 'uplink'),
    hop('hv', 'veth1', 'backend'),
    hop('ct1', 'eth0', 'guest-nic', true),
  ] as unknown as Path['hops']);
  assert.equal(cause?.id, 'guest-no-reply');
  assert.ok(
    cause.fix.some((f) => f.includes('ip netns exec ct1 ss -ltn')),
    cause.fix.join('\n'),
  );
});

test("a VM without an agent (the path ends at its tap): the guest's console, not the hypervisor's namespace", () => {
  const [cause] = run([hop('hv', 'eth0', 'uplink'), hop('hv', 'tap100i0', 'backend', true)] as unknown as Path['hops']);
  assert.equal(cause?.id, 'guest-no-reply');
  assert.ok(
    cause.fix.every((f) => f.startsWith('#') && !f.includes('ip netns exec hv')),
    cause.fix.join('\n'),
  );
  assert.match(cause.evidence.join('\n'), /cannot look inside the guest behind hv\/tap100i0/);
});
