import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePacket } from '../../src/correlate/packets.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { Hop } from '../../src/model/path.js';
import { ether, ip6, ipv6, MAC_A, MAC_B } from '../helpers/frames.js';

/** ICMPv6 neighbour solicitation (135) / advertisement (136) with a link-layer address option. */
function nd(type: 135 | 136, target: string, llType: 1 | 2, mac: number[]): Buffer {
  return Buffer.from([type, 0, 0, 0, type === 136 ? 0x60 : 0, 0, 0, 0, ...ip6(target), llType, 1, ...mac]);
}
const ns = (src: string, target: string, mac: number[]) =>
  ether(ipv6({ src, dst: 'ff02::1:ff00:11', hop: 255, next: 58, payload: nd(135, target, 1, mac) }), {
    type: 0x86dd,
    src: mac,
    dst: [0x33, 0x33, 0xff, 0, 0, 0x11],
  });
const na = (target: string, dst: string, mac: number[], dstMac: number[]) =>
  ether(ipv6({ src: target, dst, hop: 255, next: 58, payload: nd(136, target, 2, mac) }), {
    type: 0x86dd,
    src: mac,
    dst: dstMac,
  });

test('NDP is read into the ARP fields: a solicitation asks for its target, an advertisement answers for it', () => {
  const s = decodePacket(0, 1n, ns('2001:db8::100', '2001:db8::11', MAC_A), 86, 1);
  assert.equal(s.kind, 'ipv6');
  assert.equal(s.arpOp, 1);
  assert.equal(s.arpSenderIp, '2001:db8::100');
  assert.equal(s.arpTargetIp, '2001:db8::11');
  assert.equal(s.arpSenderMac, '02:00:00:00:00:0a');
  const a = decodePacket(0, 2n, na('2001:db8::11', '2001:db8::100', MAC_B, MAC_A), 86, 1);
  assert.equal(a.arpOp, 2);
  assert.equal(a.arpSenderIp, '2001:db8::11');
  assert.equal(a.arpTargetIp, '2001:db8::100');
  assert.equal(a.arpSenderMac, '02:00:00:00:00:0b');
});

test('NDP localizes like ARP: advertisements from the target that stop at the backend are a from-target loss there', () => {
  const hop = (netns: string, ifname: string, role: Hop['role'], isTarget = false): Hop => ({
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
  const hops = [hop('hv', 'eth0', 'uplink'), hop('hv', 'vnet0', 'backend'), hop('vm1', 'eth0', 'guest-nic', true)];
  const packets = [];
  let t = 0n;
  for (let n = 0; n < 3; n++) {
    const mac = [0x02, 0, 0, 0, 0, 0x64 + n];
    for (const h of [0, 1, 2])
      packets.push(decodePacket(h, (t += 1000n), ns('2001:db8::100', '2001:db8::11', mac), 86, 1));
    for (const h of [2, 1])
      packets.push(
        decodePacket(h, (t += 1000n), na('2001:db8::11', '2001:db8::100', [0x52, 0x54, 0, 0, 0, 0x11], mac), 86, 1),
      );
  }
  const c = correlate({
    hops,
    observed: [true, true, true],
    packets,
    targetAddresses: ['2001:db8::11'],
    probeAddresses: [],
    nat: false,
    sourceAddresses: ['2001:db8::100'],
  });
  assert.deepEqual(c.loss, {
    direction: 'from-target',
    lastSeenHop: { netns: 'hv', ifname: 'vnet0', role: 'backend' },
    firstMissingHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
  });
  assert.deepEqual(
    c.hopCounts.map((h) => [h.arpRequests, h.arpReplies]),
    [
      [3, 0],
      [3, 3],
      [3, 3],
    ],
  );
});
