import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestArpUnresolved } from '../../src/checks/guest-arp-unresolved.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { HopPacket } from '../../src/model/packet.js';
import type { Path } from '../../src/model/path.js';
import type { Cause } from '../../src/model/report.js';

const hop = (netns: string, ifname: string, role: string, isTarget = false) => ({
  netns,
  ifname,
  kind: 'veth',
  role,
  seesTransit: true,
  isTarget,
  via: 'veth',
  mtu: 1500,
  addresses: [],
});
const hops = [
  hop('hv', 'eth0', 'uplink'),
  hop('hv', 'vnet0', 'backend'),
  hop('vm1', 'eth0', 'guest-nic', true),
] as unknown as Path['hops'];
const path = {
  hops,
  target: { query: '192.0.2.11', netns: 'vm1', ifname: 'eth0', address: '192.0.2.11' },
} as unknown as Path;
let t = 1n;
const pkt = (h: number, fp: string, f: Partial<HopPacket>): HopPacket => ({
  hop: h,
  tsNs: (t += 1000n),
  fp,
  natFp: fp,
  kind: 'arp',
  length: 60,
  data: new Uint8Array(0),
  summary: fp,
  linkType: 1,
  ...f,
});
const ask = (h: number) => pkt(h, 'ask', { arpOp: 1, arpSenderIp: '192.0.2.100', arpTargetIp: '192.0.2.11' });
const topology = (arpIgnore: number) =>
  ({
    namespaces: [
      {
        id: 'vm1',
        interfaces: [{ ifname: 'eth0', adminUp: true, addresses: [{ local: '192.0.2.11', family: 'inet' }] }],
        sysctls: { rp_filter: {}, arp_ignore: { all: arpIgnore }, arp_filter: {} },
        routes: [],
      },
    ],
  }) as never;

function run(arpIgnore: number, extra: HopPacket[] = []): Cause[] {
  const correlation = correlate({
    hops,
    observed: [true, true, true],
    packets: [...[0, 1, 2].map(ask), ...extra],
    targetAddresses: ['192.0.2.11'],
    probeAddresses: [],
    nat: false,
    sourceAddresses: ['192.0.2.100'],
  });
  return guestArpUnresolved.run({
    topology: topology(arpIgnore),
    path,
    correlation,
    probes: [],
    targetAddresses: ['192.0.2.11'],
    probesFromOutside: true,
    passive: false,
    sourceAddresses: ['192.0.2.100'],
  }) as Cause[];
}

test('ARP requests for the target unanswered at its NIC: guest-arp-unresolved, with arp_ignore=8 as the reason', () => {
  const [cause] = run(8);
  assert.equal(cause?.id, 'guest-arp-unresolved');
  assert.equal(cause.confidence, 0.9);
  assert.match(
    cause.summary,
    /ARP requests for 192\.0\.2\.11 reached vm1\/eth0 and the target never answered: net\.ipv4\.conf\.all\.arp_ignore=8/,
  );
});

test("nothing seen in the guest's state: still guest-arp-unresolved, less sure", () => {
  const [cause] = run(0);
  assert.equal(cause?.confidence, 0.7);
  assert.equal(cause.evidence.length, 1);
});

test('the target sending IP of its own (an IGMP report) does not hide it', () => {
  const igmp = pkt(2, 'igmp', { kind: 'ipv4', src: '192.0.2.11', dst: '224.0.0.22', proto: 'other' });
  assert.equal(run(8, [igmp]).length, 1);
});

test('an ARP reply from the target anywhere: not this cause', () => {
  const reply = pkt(2, 'rep', { arpOp: 2, arpSenderIp: '192.0.2.11', arpTargetIp: '192.0.2.100' });
  assert.equal(run(8, [reply]).length, 0);
});
