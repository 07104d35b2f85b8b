import assert from 'node:assert/strict';
import { test } from 'node:test';
import { correlate } from '../../src/correlate/correlate.js';
import type { HopPacket } from '../../src/model/packet.js';
import type { Hop } from '../../src/model/path.js';

const hop = (netns: string, ifname: string, role: Hop['role'], seesTransit = true, isTarget = false): Hop => ({
  netns,
  ifname,
  kind: 'veth',
  role,
  seesTransit,
  isTarget,
  via: 'veth',
  mtu: 1500,
  addresses: [],
});

const HOPS: Hop[] = [
  hop('hv', 'eth0', 'uplink'),
  hop('hv', 'br0', 'bridge', false),
  hop('hv', 'vnet0', 'backend'),
  hop('vm1', 'eth0', 'guest-nic', true, true),
];
const OBSERVED = [true, false, true, true];

let clock = 1_700_000_000_000_000_000n;
function pkt(h: number, fp: string, fields: { [K in keyof HopPacket]?: HopPacket[K] | undefined }): HopPacket {
  clock += 1000n;
  return {
    hop: h,
    tsNs: clock,
    fp,
    natFp: fp,
    kind: 'ipv4',
    length: 98,
    data: new Uint8Array(0),
    summary: fields.summary ?? fp,
    linkType: 1,
    // Fields given as undefined are absent (exactOptionalPropertyTypes).
    ...(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<HopPacket>),
  };
}
const req = (h: number, n: number) =>
  pkt(h, `req${n}`, { src: '192.0.2.100', dst: '192.0.2.11', proto: 'icmp', icmpType: 8, ttl: 64 });
const rep = (h: number, n: number) =>
  pkt(h, `rep${n}`, { src: '192.0.2.11', dst: '192.0.2.100', proto: 'icmp', icmpType: 0, ttl: 64 });

const base = { hops: HOPS, observed: OBSERVED, targetAddresses: ['192.0.2.11'], probeAddresses: [], nat: false };

test('healthy: every request and reply crosses every observed hop, no loss', () => {
  const packets = [0, 1, 2].flatMap((n) => [req(0, n), req(2, n), req(3, n), rep(3, n), rep(2, n), rep(0, n)]);
  const c = correlate({ ...base, packets });
  assert.equal(c.loss, null);
  assert.deepEqual(c.complete, { 'to-target': 3, 'from-target': 3 });
  assert.deepEqual(
    c.hopCounts.map((h) => [h.ifname, h.toTarget, h.fromTarget, h.observed]),
    [
      ['eth0', 3, 3, true],
      ['br0', 0, 0, false],
      ['vnet0', 3, 3, true],
      ['eth0', 3, 3, true],
    ],
  );
  assert.equal(c.target.requestsAtTargetNic, 3);
});

test('requests stop between the uplink and the backend: that segment, to-target', () => {
  const packets = [0, 1, 2].map((n) => req(0, n));
  const c = correlate({ ...base, packets });
  assert.deepEqual(c.loss, {
    direction: 'to-target',
    lastSeenHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
    firstMissingHop: { netns: 'hv', ifname: 'vnet0', role: 'backend' },
  });
  assert.equal(c.segments[0]!.packets, 3);
});

test('replies stop on the way back: from-target segment in reverse path order', () => {
  const packets = [0, 1].flatMap((n) => [req(0, n), req(2, n), req(3, n), rep(3, n)]);
  const c = correlate({ ...base, packets });
  assert.deepEqual(c.loss, {
    direction: 'from-target',
    lastSeenHop: { netns: 'vm1', ifname: 'eth0', role: 'guest-nic' },
    firstMissingHop: { netns: 'hv', ifname: 'vnet0', role: 'backend' },
  });
});

test('nothing at all on the uplink: to-target, nothing seen, first missing is the uplink', () => {
  const c = correlate({ ...base, packets: [] });
  assert.deepEqual(c.loss, {
    direction: 'to-target',
    lastSeenHop: null,
    firstMissingHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
  });
});

test('the target never answers: from-target, nothing seen, first missing is its NIC', () => {
  const packets = [0, 1].flatMap((n) => [req(0, n), req(2, n), req(3, n)]);
  const c = correlate({ ...base, packets });
  assert.deepEqual(c.loss, {
    direction: 'from-target',
    lastSeenHop: null,
    firstMissingHop: { netns: 'vm1', ifname: 'eth0', role: 'guest-nic' },
  });
  assert.equal(c.target.ipFromTarget, 0);
});

test('the target only asks ARP for the peer: counted, and described instead of a reply', () => {
  const arp = (h: number, n: number) =>
    pkt(h, `arp${n}`, {
      kind: 'arp',
      arpOp: 1,
      arpSenderIp: '192.0.2.11',
      arpTargetIp: '192.0.2.100',
      src: undefined,
      dst: undefined,
    });
  const arpReply = (h: number, n: number) =>
    pkt(h, `arprep${n}`, { kind: 'arp', arpOp: 2, arpSenderIp: '192.0.2.100', arpTargetIp: '192.0.2.11' });
  const packets = [0, 1, 2].flatMap((n) => [
    req(0, n),
    req(2, n),
    req(3, n),
    arp(3, n),
    arp(2, n),
    arp(0, n),
    arpReply(0, n),
    arpReply(2, n),
    arpReply(3, n),
  ]);
  const c = correlate({ ...base, packets });
  assert.equal(c.target.arpAskedByTarget.get('192.0.2.100'), 3);
  assert.equal(c.target.arpRepliesToTargetAtNic, 3);
  assert.equal(c.hopCounts[3]!.arpRequests, 3);
  assert.equal(c.hopCounts[3]!.arpReplies, 3);
  assert.match(c.instead.join('\n'), /ARP who-has 192\.0\.2\.100 .*3 requests.*kept asking/);
});

test('a TCP RST from the target is what came back instead', () => {
  const syn = pkt(3, 'syn', {
    src: '192.0.2.100',
    dst: '192.0.2.11',
    proto: 'tcp',
    srcPort: 40000,
    dstPort: 80,
    tcpFlags: 'S',
  });
  const rst = pkt(3, 'rst', {
    src: '192.0.2.11',
    dst: '192.0.2.100',
    proto: 'tcp',
    srcPort: 80,
    dstPort: 40000,
    tcpFlags: 'R.',
    srcMac: '52:54:00:00:00:11',
  });
  const c = correlate({ ...base, packets: [syn, rst] });
  assert.equal(c.target.rstFromTarget.length, 1);
  assert.match(c.instead[0]!, /TCP RST from 192\.0\.2\.11:80 \(MAC 52:54:00:00:00:11\)/);
});

test('NAT: the same packet before and after DNAT is one journey, and the change is named', () => {
  const hops = [
    hop('hv', 'eth0', 'uplink'),
    hop('hv', 'docker0', 'router'),
    hop('hv', 'veth1', 'backend'),
    hop('ct', 'eth0', 'guest-nic', true, true),
  ];
  const before = pkt(0, 'a', {
    natFp: 'n1',
    src: '198.51.100.100',
    dst: '198.51.100.1',
    proto: 'tcp',
    srcPort: 4000,
    dstPort: 9200,
    tcpFlags: 'S',
    ttl: 64,
  });
  const after = [1, 2, 3].map((h) =>
    pkt(h, 'b', {
      natFp: 'n1',
      src: '198.51.100.100',
      dst: '203.0.113.2',
      proto: 'tcp',
      srcPort: 4000,
      dstPort: 9200,
      tcpFlags: 'S',
      ttl: 63,
    }),
  );
  const c = correlate({
    hops,
    observed: [true, true, true, true],
    packets: [before, ...after],
    targetAddresses: ['203.0.113.2'],
    probeAddresses: ['198.51.100.1'],
    nat: true,
  });
  const requests = c.live.filter((j) => j.kind === 'request');
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.seen.size, 4);
  assert.deepEqual(c.complete, { 'to-target': 1, 'from-target': 0 });
  const trace = c.journeys.find((t) => t.direction === 'to-target')!;
  assert.ok(
    trace.changes.some((x) => x.includes('NAT-ed to 203.0.113.2:9200')),
    trace.changes.join('; '),
  );
  assert.ok(trace.changes.some((x) => x.includes('TTL 64→63')));
});

test('replies from the target address with two MACs on its segment: another host answered', () => {
  const packets = [0, 1].flatMap((n) => [req(0, n), req(2, n), req(3, n)]);
  packets.push(
    pkt(0, 'x1', { src: '192.0.2.11', dst: '192.0.2.100', proto: 'icmp', icmpType: 0, srcMac: '52:54:00:00:00:11' }),
  );
  packets.push(
    pkt(0, 'x2', { src: '192.0.2.11', dst: '192.0.2.100', proto: 'icmp', icmpType: 0, srcMac: '52:54:00:00:00:12' }),
  );
  const c = correlate({ ...base, packets });
  assert.deepEqual([...c.target.replyMacs.keys()].sort(), ['52:54:00:00:00:11', '52:54:00:00:00:12']);
});

// Neighbour resolution as evidence (issue 16 §4): when the client cannot resolve the
// target, ARP (IPv6: NDP) is the only traffic, and it localizes the loss as IP would.
const arpAsk = (h: number, n: number) =>
  pkt(h, `ask${n}`, {
    kind: 'arp',
    arpOp: 1,
    arpSenderIp: '192.0.2.100',
    arpTargetIp: '192.0.2.11',
    arpSenderMac: '02:00:00:00:00:64',
  });
const arpAnswer = (h: number, n: number) =>
  pkt(h, `ans${n}`, {
    kind: 'arp',
    arpOp: 2,
    arpSenderIp: '192.0.2.11',
    arpTargetIp: '192.0.2.100',
    arpSenderMac: '52:54:00:00:00:11',
  });
const sources = { sourceAddresses: ['192.0.2.100'] };

test('ARP requests for the target reach its NIC and nothing answers: loss at the guest NIC, not "nowhere → uplink"', () => {
  const packets = [0, 1, 2].flatMap((n) => [arpAsk(0, n), arpAsk(2, n), arpAsk(3, n)]);
  const c = correlate({ ...base, ...sources, packets });
  assert.deepEqual(c.loss, {
    direction: 'from-target',
    lastSeenHop: null,
    firstMissingHop: { netns: 'vm1', ifname: 'eth0', role: 'guest-nic' },
  });
  assert.equal(c.target.arpRequestsForTargetAtEnd, 3);
  assert.equal(c.target.arpRepliesFromTarget, 0);
  assert.match(
    c.instead.join('\n'),
    /ARP\/NDP requests for 192\.0\.2\.11 \(3 distinct\) reached vm1\/eth0; the target never answered/,
  );
});

test('ARP replies seen at the backend and missing at the uplink: from-target loss at that segment', () => {
  const packets = [0, 1, 2].flatMap((n) => [
    arpAsk(0, n),
    arpAsk(2, n),
    arpAsk(3, n),
    arpAnswer(3, n),
    arpAnswer(2, n),
  ]);
  const c = correlate({ ...base, ...sources, packets });
  assert.deepEqual(c.loss, {
    direction: 'from-target',
    lastSeenHop: { netns: 'hv', ifname: 'vnet0', role: 'backend' },
    firstMissingHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
  });
  assert.equal(c.segments[0]!.packets, 3);
  assert.match(c.instead.join('\n'), /3 ARP\/NDP replies from 192\.0\.2\.11 seen at hv\/vnet0 never reached hv\/eth0/);
});

test('ARP requests lost between the uplink and the backend: to-target at that segment', () => {
  const packets = [0, 1].map((n) => arpAsk(0, n));
  const c = correlate({ ...base, ...sources, packets });
  assert.deepEqual(c.loss, {
    direction: 'to-target',
    lastSeenHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
    firstMissingHop: { netns: 'hv', ifname: 'vnet0', role: 'backend' },
  });
});

test('ARP answered both ways while IP flows: ARP changes nothing', () => {
  const packets = [0, 1].flatMap((n) => [
    arpAsk(0, n),
    arpAsk(2, n),
    arpAsk(3, n),
    arpAnswer(3, n),
    arpAnswer(2, n),
    arpAnswer(0, n),
    req(0, n),
    req(2, n),
    req(3, n),
    rep(3, n),
    rep(2, n),
    rep(0, n),
  ]);
  const c = correlate({ ...base, ...sources, packets });
  assert.equal(c.loss, null);
  assert.equal(c.target.arpRepliesFromTarget, 2);
});

test('the host asking for its own guest gets its answer half-way: no ARP loss is made of it', () => {
  // hv's bridge address asks from inside (first seen at the backend); vm1 answers it there.
  const hvAsk = (h: number) =>
    pkt(h, 'hvask', { kind: 'arp', arpOp: 1, arpSenderIp: '192.0.2.1', arpTargetIp: '192.0.2.11' });
  const hvAnswer = (h: number) =>
    pkt(h, 'hvans', { kind: 'arp', arpOp: 2, arpSenderIp: '192.0.2.11', arpTargetIp: '192.0.2.1' });
  const packets = [
    hvAsk(2),
    hvAsk(3),
    hvAnswer(3),
    hvAnswer(2),
    ...[0, 1].flatMap((n) => [req(0, n), req(2, n), req(3, n), rep(3, n), rep(2, n), rep(0, n)]),
  ];
  const c = correlate({ ...base, ...sources, packets });
  assert.equal(c.loss, null);
  assert.doesNotMatch(c.instead.join('\n'), /never reached|never answered/);
  // With nothing from the sender at all, that exchange is no "unanswered at the NIC": nothing reached the uplink.
  const only = correlate({ ...base, ...sources, packets: [hvAsk(2), hvAsk(3), hvAnswer(3), hvAnswer(2)] });
  assert.deepEqual(only.loss, {
    direction: 'to-target',
    lastSeenHop: null,
    firstMissingHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' },
  });
  assert.equal(only.target.arpRequestsForTargetAtEnd, 0);
});

test('what the target sends to a group or to everyone (IGMP, mDNS, broadcast) is no lost reply', () => {
  // Requests reach the guest and it never answers; meanwhile its bridge's IGMP reports and an mDNS
  // query from its address stop at the host, as they should.
  const packets = [
    ...[0, 1, 2].flatMap((n) => [req(0, n), req(2, n), req(3, n)]),
    pkt(3, 'igmp', { src: '192.0.2.11', dst: '224.0.0.22', proto: 'igmp' as NonNullable<HopPacket['proto']>, ttl: 1 }),
    pkt(2, 'igmp', { src: '192.0.2.11', dst: '224.0.0.22', proto: 'igmp' as NonNullable<HopPacket['proto']>, ttl: 1 }),
    pkt(3, 'mdns', { src: '192.0.2.11', dst: '224.0.0.251', proto: 'udp', srcPort: 5353, dstPort: 5353, ttl: 255 }),
    pkt(3, 'bcast', { src: '192.0.2.11', dst: '255.255.255.255', proto: 'udp', srcPort: 68, dstPort: 67, ttl: 64 }),
  ];
  const c = correlate({ ...base, packets });
  assert.equal(c.loss?.direction, 'from-target');
  assert.equal(c.loss?.lastSeenHop, null, 'no reply was seen anywhere: the multicast is not one');
  assert.equal(c.hopCounts[3]!.fromTarget, 0);
});

test("a macvlan inside the guest: requests addressed to its lower device's own MAC are taken up there (ARP flux), not lost; others still are", async () => {
  const { correlationNotices } = await import('../../src/checks/notices.js');
  const hops: Hop[] = [
    hop('hv', 'eth0', 'uplink'),
    hop('hv', 'vnet0', 'backend'),
    { ...hop('vm1', 'ens3', 'bridge-port'), address: 'a6:07:af:67:50:b6' },
    {
      ...hop('vm1', 'macvlan0', 'guest-nic', true, true),
      kind: 'macvlan',
      via: 'macvlan',
      address: '52:54:00:00:00:11',
    },
  ];
  const observed = [true, true, true, true];
  const nicMac = { dstMac: 'a6:07:af:67:50:b6' };
  const toNic = (h: number, n: number) => ({ ...req(h, n), ...nicMac });
  const packets = [0, 1, 2].flatMap((n) => [
    toNic(0, n),
    toNic(1, n),
    toNic(2, n),
    rep(3, n),
    rep(2, n),
    rep(1, n),
    rep(0, n),
  ]);
  const c = correlate({ ...base, hops, observed, packets });
  assert.equal(c.loss, null);
  assert.deepEqual(c.complete, { 'to-target': 3, 'from-target': 3 });
  assert.deepEqual([...c.target.takenUpAtLower], [[2, 3]]);
  const topology = {
    schemaVersion: 1,
    host: 'h',
    collectedAt: '',
    root: '',
    warnings: [],
    namespaces: [
      {
        id: 'vm1',
        name: 'vm1',
        isRoot: false,
        collected: true,
        interfaces: [],
        bridges: [],
        routes: [],
        neighbours: [],
        sysctls: { ip_forward: 0, rp_filter: {}, arp_ignore: { all: 0, ens3: 0 }, arp_filter: {} },
      },
    ],
  } as unknown as Parameters<typeof correlationNotices>[1];
  const [notice] = correlationNotices(c, topology, hops, ['192.0.2.11']);
  assert.match(
    notice ?? '',
    /3 packets for 192\.0\.2\.11 came addressed to vm1\/ens3's own MAC .* never passing macvlan0.*arp_ignore=0: ARP flux.*net\.ipv4\.conf\.ens3\.arp_ignore=1/,
  );
  // Addressed to the macvlan's MAC and stopped at its lower device: lost there, as before.
  const lost = correlate({
    ...base,
    hops,
    observed,
    packets: [0, 1, 2].flatMap((n) => [req(0, n), req(1, n), req(2, n)]),
  });
  assert.deepEqual([lost.loss?.lastSeenHop?.ifname, lost.loss?.firstMissingHop?.ifname], ['ens3', 'macvlan0']);
  assert.equal(lost.target.takenUpAtLower.size, 0);
});
