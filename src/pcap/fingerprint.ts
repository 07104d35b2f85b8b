import {
  Decoded,
  GENEVE_PORT,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  PROTO_ICMP,
  PROTO_TCP,
  PROTO_UDP,
  VXLAN_PORT,
} from './decoded.js';

const SEED_A = 0x9747b28c | 0;
const SEED_B = 0x5bd1e995 | 0;

const W = new Int32Array(64);
/**
 * A DataView over the bytes of the last buffer fastHash() read (readers reuse one buffer). Module
 * state is declared above every function that touches it: a \`let\` read in a function above its
 * declaration costs a hole check on each access.
 */
let viewBuf: Uint8Array | null = null;
let view: DataView = new DataView(new ArrayBuffer(0));
const N = new Int32Array(64);

function u32at(d: Uint8Array, o: number): number {
  return (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
}

/** The first 8 bytes of data at [o, end) as 2 words, and how many there were (snaplen-cut payloads hash what was seen). */
function payloadWords(d: Uint8Array, o: number, end: number, w: Int32Array, n: number): number {
  const avail = end - o;
  if (avail >= 8) {
    w[n] = (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
    w[n + 1] = (d[o + 4]! << 24) | (d[o + 5]! << 16) | (d[o + 6]! << 8) | d[o + 7]!;
    w[n + 2] = 8;
    return n + 3;
  }
  let x = 0;
  let y = 0;
  for (let k = 0; k < 8; k++) {
    const v = k < avail ? d[o + k]! : 0;
    if (k < 4) x = (x << 8) | v;
    else y = (y << 8) | v;
  }
  w[n] = x;
  w[n + 1] = y;
  w[n + 2] = avail < 0 ? 0 : avail;
  return n + 3;
}

/** The two hash lanes of the last hash2 (a typed array: no number boxed per packet). */
const LANES = new Uint32Array(2);
let lastWords = 0;

/**
 * The words the last fingerprint() hashed (its exact identity before
 * hashing): the benchmark compares these to measure collisions.
 */
export function lastIdentityWords(): number[] {
  return Array.from(W.subarray(0, lastWords));
}

/**
 * Two 32-bit lanes over the words in one pass: per word and lane one multiply and one xorshift
 * (each a bijection of the lane, with its own odd constant), then murmur3's finalizer. About half
 * the work of murmur3's per-word mixing; measured on the benchmark's captures, each lane collides
 * as often as a random 32-bit function would (the birthday bound) and the 64 bits never
 * (docs/pcap.md). Not meant to resist someone crafting collisions.
 */
function hash2(words: Int32Array, n: number, seedA: number, seedB: number): void {
  let a = seedA;
  let b = seedB;
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
  }
  a ^= n * 4;
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= n * 4;
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  LANES[0] = a;
  LANES[1] = b;
}

/**
 * The words that identify a packet. `nat`: leave out addresses and ports
 * (the NAT-tolerant identity).
 */
function identityWords(out: Decoded, nat: boolean, w: Int32Array): number {
  const d = out.data;
  let n = 0;
  const l3 = out.l3;
  if (l3 === L3_IPV4 || l3 === L3_IPV6) {
    const o = out.l3Off;
    const head = (l3 << 24) | ((out.ipProto & 0xff) << 16);
    if (l3 === L3_IPV4) {
      w[n++] = head | out.ipId;
      if (!nat) {
        w[n++] = u32at(d, o + 12);
        w[n++] = u32at(d, o + 16);
      }
    } else {
      w[n++] = head;
      w[n++] = out.flowLabel;
      if (!nat) for (let i = 8; i < 40; i += 4) w[n++] = u32at(d, o + i);
    }
    if (out.fragment) {
      w[n++] = (out.fragOffset << 1) | (out.moreFragments ? 1 : 0);
      w[n++] = out.ip6FragId;
    }
    if (out.l4Off >= 0) {
      const p = out.ipProto;
      if (p === PROTO_TCP) {
        if (!nat) w[n++] = (out.srcPort << 16) | out.dstPort;
        w[n++] = out.seq;
        w[n++] = out.ack;
        w[n++] = out.tcpFlags;
      } else if (p === PROTO_UDP) {
        if (!nat) w[n++] = (out.srcPort << 16) | out.dstPort;
        w[n++] = out.udpLen;
      } else {
        w[n++] = (out.icmpType << 8) | out.icmpCode;
        w[n++] = (out.icmpId << 16) | (out.icmpSeq & 0xffff);
      }
      if (out.quotedOff >= 0) {
        // An ICMP error: its identity is the packet it quotes (id and L4 start), not the NAT-able addresses.
        const q = out.quotedOff;
        const qv = q < out.l4End ? d[q]! >> 4 : 0;
        if (qv === 4 && q + 20 <= out.l4End) {
          const qi = q + (d[q]! & 0x0f) * 4;
          w[n++] = u32at(d, q + 4);
          if (qi + 8 <= out.l4End) w[n++] = u32at(d, qi + 4);
        }
        if (!nat) n = payloadWords(d, q, out.l4End, w, n);
      } else {
        n = payloadWords(d, out.payOff, out.l4End, w, n);
      }
    } else if (out.payOff >= 0) {
      n = payloadWords(d, out.payOff, out.l4End, w, n);
    }
  } else if (l3 === L3_ARP && out.arpOff >= 0) {
    const o = out.arpOff;
    w[n++] = 0x0806_0000 | out.arpOp;
    // sha (6) spa (4) tha (6) tpa (4) = 20 bytes = 5 words
    for (let i = 8; i < 28; i += 4) w[n++] = u32at(d, o + i);
  } else {
    w[n++] = out.etherType | 0x7f000000;
    const from = out.l3Off >= 0 ? out.l3Off : out.start;
    const to = Math.min(out.end, from + 64);
    for (let i = from; i + 4 <= to; i += 4) w[n++] = u32at(d, i);
    w[n++] = to - from;
  }
  return n;
}

/**
 * The identity of "the same packet" at different hops, from fields that do
 * not change on the way: IP id / IPv6 flow label and fragment id, addresses,
 * protocol, fragment offset, TCP ports/seq/ack/flags, UDP ports and length,
 * ICMP type/code/id/seq, and the first 8 bytes of the L4 payload. Left
 * out: TTL/hop limit, TOS, checksums, MACs, VLAN tags, TCP options (MSS
 * clamping rewrites them), outer tunnel headers (VXLAN hashes its inner
 * frame). ARP has its own identity (op, sender and target hardware/protocol
 * addresses); other frames hash their first 64 bytes after the link header.
 * decode() computes it for every packet; the NAT-tolerant one on demand.
 */
export function fingerprint(out: Decoded): void {
  const n = identityWords(out, false, W);
  lastWords = n;
  hash2(W, n, SEED_A, SEED_B);
  out.fpHi = LANES[0]!;
  out.fpLo = LANES[1]!;
  out.natHi = -1;
}

/**
 * The NAT-tolerant identity (addresses and ports left out), computed on the
 * first call after decode() and kept in natHi/natLo. For ARP and non-IP
 * frames it is the fingerprint itself.
 */
export function natFingerprint(out: Decoded): void {
  if (out.natHi !== -1) return;
  if (out.l3 !== L3_IPV4 && out.l3 !== L3_IPV6) {
    if (out.fpHi === -1) fingerprint(out);
    out.natHi = out.fpHi;
    out.natLo = out.fpLo;
    return;
  }
  const m = identityWords(out, true, N);
  hash2(N, m, SEED_A ^ 0x5a5a5a5a, SEED_B ^ 0x5a5a5a5a);
  out.natHi = LANES[0]!;
  out.natLo = LANES[1]!;
}

export function fingerprintHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** hash2()'s finalizer for one lane after `n` words, as an unsigned 32-bit number. */
function finish(h: number, n: number): number {
  h ^= n * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The two lanes of the last fastHash() (a typed array: no number boxed per packet). */
const FAST = new Uint32Array(2);

/**
 * The fingerprint (`nat`: the NAT-tolerant one) of the commonest frame straight from its bytes,
 * without decode(): Ethernet with no VLAN tag, IPv4 that is not a fragment, then TCP, UDP (not
 * VXLAN's or Geneve's port) or ICMP (not an error), its L4 header captured. The words are those
 * identityWords() gives for such a frame, hashed as they are read the way hash2() hashes them
 * (same order, same lanes): no array written and read back and no loop, which halved the time per
 * packet on the snap-128 benchmark capture (docs/pcap.md). The two mixing lines are written out at
 * each word: V8 did not inline helpers into a function this size. Returns the protocol class (0 TCP,
 * 1 UDP, 2 ICMP, as protoClass()) with the lanes in FAST, or -1: decode() this one.
 * test/pcap/fingerprint-fast.test.ts compares both ways on every packet of the test captures and on
 * random frames.
 */
function fastHash(d: Uint8Array, start: number, length: number, nat: boolean): number {
  const end = Math.min(d.length, start + length);
  if (end - start < 34) return -1;
  if (d !== viewBuf) {
    view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    viewBuf = d;
  }
  const v = view;
  if (v.getUint16(start + 12) !== 0x0800) return -1;
  const o = start + 14;
  const vihl = d[o]!;
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20 || (v.getUint16(o + 6) & 0x3fff) !== 0) return -1;
  const l4 = o + ihl;
  if (l4 > end) return -1;
  const total = v.getUint16(o + 2);
  const tEnd = total >= ihl ? Math.min(end, o + total) : end;
  const proto = d[o + 9]!;
  let a = nat ? SEED_A ^ 0x5a5a5a5a : SEED_A;
  let b = nat ? SEED_B ^ 0x5a5a5a5a : SEED_B;
  let n = 0;
  let w = (L3_IPV4 << 24) | (proto << 16) | v.getUint16(o + 4);
  a = Math.imul(a ^ w, 0x9e3779b1);
  a ^= a >>> 15;
  b = Math.imul(b ^ w, 0x85ebca77);
  b ^= b >>> 13;
  n++;
  if (!nat) {
    w = v.getInt32(o + 12);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    w = v.getInt32(o + 16);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
  }
  let cls: number;
  let pay: number;
  if (proto === PROTO_TCP) {
    if (l4 + 20 > tEnd) return -1;
    if (!nat) {
      w = v.getInt32(l4);
      a = Math.imul(a ^ w, 0x9e3779b1);
      a ^= a >>> 15;
      b = Math.imul(b ^ w, 0x85ebca77);
      b ^= b >>> 13;
      n++;
    }
    w = v.getInt32(l4 + 4);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    w = v.getInt32(l4 + 8);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    const off = d[l4 + 12]!;
    w = d[l4 + 13]! | ((off & 1) << 8);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    cls = 0;
    pay = l4 + Math.max(20, (off >> 4) * 4);
  } else if (proto === PROTO_UDP) {
    if (l4 + 8 > tEnd) return -1;
    const dport = v.getUint16(l4 + 2);
    if (dport === VXLAN_PORT || dport === GENEVE_PORT) return -1;
    if (!nat) {
      w = v.getInt32(l4);
      a = Math.imul(a ^ w, 0x9e3779b1);
      a ^= a >>> 15;
      b = Math.imul(b ^ w, 0x85ebca77);
      b ^= b >>> 13;
      n++;
    }
    w = v.getUint16(l4 + 4);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    cls = 1;
    pay = l4 + 8;
  } else if (proto === PROTO_ICMP) {
    if (l4 + 4 > tEnd) return -1;
    const type = d[l4]!;
    if (type === 3 || type === 4 || type === 5 || type === 11 || type === 12) return -1;
    w = v.getUint16(l4);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    w = (type === 0 || type === 8 || type === 13 || type === 14) && l4 + 8 <= tEnd ? v.getInt32(l4 + 4) : -1;
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    cls = 2;
    pay = l4 + 8;
  } else return -1;
  // The payload's first 8 bytes as two words, then how many there were (payloadWords()).
  if (tEnd - pay >= 8) {
    w = v.getInt32(pay);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    w = v.getInt32(pay + 4);
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
    w = 8;
    a = Math.imul(a ^ w, 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w, 0x85ebca77);
    b ^= b >>> 13;
    n++;
  } else {
    payloadWords(d, pay, tEnd, W, 0);
    for (let k = 0; k < 3; k++) {
      w = W[k]!;
      a = Math.imul(a ^ w, 0x9e3779b1);
      a ^= a >>> 15;
      b = Math.imul(b ^ w, 0x85ebca77);
      b ^= b >>> 13;
      n++;
    }
  }
  FAST[0] = finish(a, n);
  FAST[1] = finish(b, n);
  return cls;
}

/**
 * decode()'s fingerprint for the commonest frames, from their bytes (fastHash()): the protocol
 * class with fpHi/fpLo set in `out`, or -1 (decode() this one).
 */
export function fastFingerprint(
  d: Uint8Array,
  start: number,
  length: number,
  out: { fpHi: number; fpLo: number },
): number {
  const cls = fastHash(d, start, length, false);
  if (cls >= 0) {
    out.fpHi = FAST[0]!;
    out.fpLo = FAST[1]!;
  }
  return cls;
}

/** natFingerprint() for the commonest frames, from their bytes: the class with natHi/natLo set, or -1. */
export function fastNatFingerprint(
  d: Uint8Array,
  start: number,
  length: number,
  out: { natHi: number; natLo: number },
): number {
  const cls = fastHash(d, start, length, true);
  if (cls >= 0) {
    out.natHi = FAST[0]!;
    out.natLo = FAST[1]!;
  }
  return cls;
}
