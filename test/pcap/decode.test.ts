import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Decoded,
  decode,
  fingerprintHex,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  natFingerprint,
  summarize,
  tcpOptions,
  toJson,
} from '../../src/pcap/index.js';
import { arp, ether, icmpEcho, ip6, ipv4, ipv6, SYN_OPTIONS, tcp, udp, vxlan } from '../helpers/frames.js';

function dec(frame: Buffer, linkType = LINKTYPE_ETHERNET): Decoded {
  return decode(frame, 0, frame.length, linkType, new Decoded());
}
const fp = (p: Decoded) => fingerprintHex(p.fpHi, p.fpLo);
const natFp = (p: Decoded) => (natFingerprint(p), fingerprintHex(p.natHi, p.natLo));

const syn = () =>
  ipv4({
    src: '198.51.100.7',
    dst: '192.0.2.11',
    ttl: 64,
    id: 4242,
    proto: 6,
    payload: tcp({ sport: 40000, dport: 80, seq: 111, flags: 0x02, options: SYN_OPTIONS }),
  });

test('Ethernet, 802.1Q and QinQ, IPv4 with options, TCP with MSS/SACK/timestamps/wscale', () => {
  const p = dec(ether(syn()));
  assert.equal(p.l3, L3_IPV4);
  assert.equal(p.ttl, 64);
  assert.equal(p.ipId, 4242);
  assert.deepEqual([p.srcPort, p.dstPort, p.seq, p.tcpFlags], [40000, 80, 111, 0x02]);
  const o = tcpOptions(p);
  assert.deepEqual([o.mss, o.sackOK, o.tsval, o.tsecr, o.wscale], [1460, true, 1, 0, 7]);
  assert.equal(
    summarize(p, 74),
    'IP 198.51.100.7.40000 > 192.0.2.11.80: Flags [S], seq 111, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0',
  );

  const q = dec(ether(syn(), { vlans: [100, 200] }));
  assert.deepEqual([q.vlanCount, q.vlan0, q.vlan1], [2, 100, 200]);
  assert.equal(fp(q), fp(p), 'VLAN tags are not part of the identity');
  assert.match(
    summarize(q, 82, true),
    /^02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype 802\.1Q \(0x8100\), length 82: vlan 100, vlan 200, ethertype IPv4 \(0x0800\), 198\.51\.100\.7\.40000 > /,
  );

  const withOpts = dec(ether(ipv4({ proto: 6, options: [0x94, 4, 0, 0], payload: tcp({ sport: 1, dport: 2 }) })));
  assert.equal(withOpts.ipHdrLen, 24);
  assert.deepEqual([withOpts.srcPort, withOpts.dstPort], [1, 2], 'L4 found after IPv4 options');
});

test('IPv4 fragments: the first has ports, later ones only their data, each its own identity', () => {
  const data = udp({ sport: 5000, dport: 4000, payload: Buffer.alloc(64, 7) });
  const first = dec(ether(ipv4({ proto: 17, id: 9, mf: true, payload: data.subarray(0, 40) })));
  const second = dec(ether(ipv4({ proto: 17, id: 9, fragOffset: 40, payload: data.subarray(40) })));
  assert.equal(first.fragment, true);
  assert.equal(first.srcPort, 5000);
  assert.equal(second.fragment, true);
  assert.equal(second.fragOffset, 40);
  assert.equal(second.l4Off, -1);
  assert.notEqual(fp(first), fp(second));
  assert.equal(
    summarize(second, 100),
    'IP 192.0.2.1 > 192.0.2.2: ip-proto-17',
    'as tcpdump -nn prints a later fragment',
  );
});

test('IPv6: extension headers are walked, fragments recognised, ND target and echo decoded', () => {
  const hopByHop = Buffer.from([60, 0, 5, 2, 0, 0, 1, 0]); // next: destination options
  const dstOpts = Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]); // next: fragment
  const frag = Buffer.from([58, 0, 0, 1, 0, 0, 0x12, 0x34]); // offset 0, M=1, id 0x1234, next ICMPv6
  const p = dec(
    ether(
      ipv6({
        next: 0,
        ext: Buffer.concat([hopByHop, dstOpts, frag]),
        payload: icmpEcho({ type: 128, id: 3, seq: 4 }),
        flow: 0xbeef,
      }),
      { type: 0x86dd },
    ),
  );
  assert.equal(p.l3, L3_IPV6);
  assert.equal(p.extHeaders, 3);
  assert.equal(p.ipProto, 58);
  assert.equal(p.fragment, true);
  assert.equal(p.ip6FragId, 0x1234);
  assert.deepEqual([p.icmpType, p.icmpId, p.icmpSeq, p.flowLabel], [128, 3, 4, 0xbeef]);
  const ns = Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(ip6('2001:db8::99'))]);
  const n = dec(ether(ipv6({ next: 58, payload: ns, hop: 255 }), { type: 0x86dd }));
  assert.equal(
    summarize(n, 86),
    'IP6 2001:db8::1 > 2001:db8::2: ICMP6, neighbor solicitation, who has 2001:db8::99, length 24',
  );
});

test('ICMP errors carry the quoted packet; ARP has its own identity', () => {
  const quoted = syn().subarray(0, 28);
  const unreach = Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), quoted]);
  const p = dec(ether(ipv4({ src: '192.0.2.11', dst: '198.51.100.7', proto: 1, payload: unreach })));
  assert.equal(p.quotedOff >= 0, true);
  assert.match(summarize(p, 70), /ICMP 192\.0\.2\.11 port unreachable|ICMP .* unreachable/);
  assert.deepEqual((toJson(p, 70).icmp as { quoted: string }).quoted, '198.51.100.7.40000 > 192.0.2.11.80: tcp');

  const req = dec(
    ether(arp({ op: 1, senderIp: '192.0.2.1', targetIp: '192.0.2.11' }), {
      type: 0x0806,
      dst: [255, 255, 255, 255, 255, 255],
    }),
  );
  assert.equal(req.l3, L3_ARP);
  assert.equal(summarize(req, 42), 'ARP, Request who-has 192.0.2.11 tell 192.0.2.1, length 28');
  const reply = dec(
    ether(arp({ op: 2, senderIp: '192.0.2.11', senderMac: [2, 0, 0, 0, 0, 0x11], targetIp: '192.0.2.1' }), {
      type: 0x0806,
    }),
  );
  assert.equal(summarize(reply, 42), 'ARP, Reply 192.0.2.11 is-at 02:00:00:00:00:11, length 28');
  assert.notEqual(fp(req), fp(reply));
});

test('VXLAN on 4789: the inner frame is decoded and is the identity; the outer headers are not', () => {
  const inner = ether(syn());
  const outer = ether(
    ipv4({
      src: '203.0.113.1',
      dst: '203.0.113.2',
      proto: 17,
      id: 77,
      payload: udp({ sport: 55555, dport: 4789, payload: vxlan(inner, 4242) }),
    }),
  );
  const p = dec(outer);
  assert.equal(p.tunnel, true);
  assert.equal(p.vni, 4242);
  assert.deepEqual([p.srcPort, p.dstPort], [40000, 80]);
  assert.equal(fp(p), fp(dec(inner)), 'the same packet inside and outside the tunnel');
  assert.match(
    summarize(p, outer.length),
    /^IP 203\.0\.113\.1\.55555 > 203\.0\.113\.2\.4789: VXLAN, flags \[I\] \(0x08\), vni 4242: IP 198\.51\.100\.7\.40000 > 192\.0\.2\.11\.80: Flags \[S\]/,
  );
  const j = toJson(p, outer.length) as { tunnel: { vni: number; src: string } };
  assert.deepEqual([j.tunnel.vni, j.tunnel.src], [4242, '203.0.113.1']);
});

test('the same packet has one identity on every link type (SLL2 of tcpdump -i any, RAW, NULL, LOOP)', () => {
  const ip = syn();
  const eth = fp(dec(ether(ip)));
  const sll2 = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0]), ip]);
  const p = dec(sll2, LINKTYPE_LINUX_SLL2);
  assert.equal(fp(p), eth);
  assert.equal(p.sllIfindex, 7);
  assert.match(summarize(p, sll2.length, true), /^ifindex 7 Out 02:00:00:00:00:0a, ethertype IPv4/);
  assert.equal(fp(dec(ip, LINKTYPE_RAW)), eth);
  assert.equal(fp(dec(ip, LINKTYPE_IPV4)), eth);
  assert.equal(
    fp(dec(Buffer.concat([Buffer.from([2, 0, 0, 0]), ip]), LINKTYPE_NULL)),
    eth,
    'NULL, little-endian family',
  );
  assert.equal(fp(dec(Buffer.concat([Buffer.from([0, 0, 0, 2]), ip]), LINKTYPE_LOOP)), eth);
});

test('fingerprints: hop changes (TTL, MACs, checksums, VLAN) keep the identity; any identifying field changes it', () => {
  const base = { src: '198.51.100.7', dst: '192.0.2.11', id: 5, proto: 6 };
  const seg = (o: Partial<Parameters<typeof tcp>[0]> = {}) =>
    tcp({
      sport: 40000,
      dport: 80,
      seq: 1000,
      ack: 2000,
      flags: 0x18,
      payload: Buffer.from('GET / HTTP/1.1\r\n'),
      ...o,
    });
  const a = dec(ether(ipv4({ ...base, ttl: 64, payload: seg() })));
  const hop = dec(
    ether(ipv4({ ...base, ttl: 61, payload: seg() }), {
      src: [2, 0, 0, 0, 0, 0x99],
      dst: [2, 0, 0, 0, 0, 0x98],
      vlans: [7],
    }),
  );
  assert.equal(fp(hop), fp(a));
  const differs = [
    ipv4({ ...base, id: 6, payload: seg() }),
    ipv4({ ...base, src: '198.51.100.8', payload: seg() }),
    ipv4({ ...base, payload: seg({ seq: 1001 }) }),
    ipv4({ ...base, payload: seg({ ack: 2001 }) }),
    ipv4({ ...base, payload: seg({ flags: 0x11 }) }),
    ipv4({ ...base, payload: seg({ sport: 40001 }) }),
    ipv4({ ...base, payload: seg({ payload: Buffer.from('GET /x HTTP/1.1\r\n') }) }),
  ];
  for (const [i, f] of differs.entries()) assert.notEqual(fp(dec(ether(f))), fp(a), `variant ${i}`);
  // DNAT: the destination address and port change on the way, the NAT-tolerant identity does not.
  const dnat = dec(ether(ipv4({ ...base, dst: '203.0.113.5', payload: seg({ dport: 8080 }) })));
  assert.notEqual(fp(dnat), fp(a));
  assert.equal(natFp(dnat), natFp(a));
});

test('any bytes on any link type decode without throwing and within the captured length', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(0, 1, 12, 101, 108, 113, 228, 229, 276, 999),
      (bytes, lt) => {
        const b = Buffer.from(bytes);
        const p = decode(b, 0, b.length, lt, new Decoded());
        summarize(p, b.length, true);
        JSON.stringify(toJson(p, b.length));
        return p.l4End <= b.length && p.end <= b.length;
      },
    ),
    { numRuns: 5000 },
  );
});
