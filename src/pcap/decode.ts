import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_BSD,
  LINKTYPE_RAW_OPENBSD,
} from './linktypes.js';

/**
 * Protocol decoding into one reused, flat record of numbers: offsets and
 * header fields, no strings and no allocation per packet. Text (addresses,
 * summaries) is made only when asked for (see summary.ts). Every read is
 * bounds-checked against the captured length: a frame cut short by the
 * snaplen is decoded as far as it goes.
 *
 * Decoding also computes the packet's fingerprints (see fingerprint()).
 */

export const L3_NONE = 0;
export const L3_IPV4 = 1;
export const L3_IPV6 = 2;
export const L3_ARP = 3;
export const L3_OTHER = 4;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;

export const VXLAN_PORT = 4789;

/** The decoded fields of one packet. Fields a packet does not have are -1 (offsets) or 0. */
export class Decoded {
  data: Uint8Array = new Uint8Array(0);
  /** First and one past the last captured byte of the frame in data. */
  start = 0;
  end = 0;
  linkType = 0;

  /** Ethernet header offset (dst MAC; src MAC at +6), or -1. */
  ethOff = -1;
  /** LINUX_SLL/SLL2: link-layer address offset and length, packet type (0 host, 4 outgoing, ...). */
  sllAddrOff = -1;
  sllAddrLen = 0;
  sllPktType = -1;
  sllIfindex = -1;
  /** 802.1Q/802.1ad tags, outermost first (QinQ: two). */
  vlanCount = 0;
  vlan0 = -1;
  vlan1 = -1;
  etherType = 0;

  l3 = L3_NONE;
  l3Off = -1;
  /** IPv4: header length with options; IPv6: 40 + extension headers. */
  ipHdrLen = 0;
  /** Bytes the IP header says the datagram has (header included). */
  ipTotalLen = 0;
  ttl = -1;
  tos = 0;
  ipId = 0;
  /** Fragment offset in bytes; moreFragments; whether this is a fragment at all. */
  fragOffset = 0;
  moreFragments = false;
  fragment = false;
  /** IPv6: fragment header identification; flow label; number of extension headers. */
  ip6FragId = 0;
  flowLabel = 0;
  extHeaders = 0;
  /** IPv6: a hop-by-hop options header came first (tcpdump prints "HBH"). */
  hopByHop = false;
  /** The upper-layer protocol (after IPv6 extension headers). */
  ipProto = -1;

  l4Off = -1;
  /** End of the L4 data actually captured (min of capture and IP length). */
  l4End = 0;
  /** L4 length per the IP header (may exceed what was captured). */
  l4Len = 0;
  srcPort = -1;
  dstPort = -1;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  tcpHdrLen = 0;
  udpLen = 0;
  /** L4 payload offset (TCP/UDP/ICMP data) and its length per the headers. */
  payOff = -1;
  payLen = 0;
  icmpType = -1;
  icmpCode = -1;
  icmpId = -1;
  icmpSeq = -1;
  /** ICMP error: offset of the quoted IP header. ND: target address offset. */
  quotedOff = -1;
  ndTargetOff = -1;

  arpOff = -1;
  arpOp = 0;

  /** VXLAN: the outer frame's offsets; the fields above describe the inner frame. */
  tunnel = false;
  vni = -1;
  outerEthOff = -1;
  outerL3Off = -1;
  outerL3 = L3_NONE;
  outerL4Off = -1;

  /** 64-bit identity across hops as two 32-bit halves (-1: not computed), and the NAT-tolerant one (natFingerprint(); -1 until computed). */
  fpHi = 0;
  fpLo = 0;
  natHi = 0;
  natLo = 0;

  /**
   * Clears what says whether a part is present; the fields of a part are
   * written whenever the part is decoded, and read only when it is present
   * (a per-packet cost of a few stores, not one per field).
   */
  reset(data: Uint8Array, start: number, end: number, linkType: number): void {
    this.data = data;
    this.start = start;
    this.end = end;
    this.linkType = linkType;
    this.ethOff = -1;
    this.sllAddrOff = -1;
    this.sllIfindex = -1;
    this.vlanCount = 0;
    this.etherType = 0;
    this.tunnel = false;
    this.resetL3();
  }

  resetL3(): void {
    this.l3 = L3_NONE;
    this.l3Off = -1;
    this.ttl = -1;
    this.fragment = false;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.ip6FragId = 0;
    this.flowLabel = 0;
    this.extHeaders = 0;
    this.hopByHop = false;
    this.ipProto = -1;
    this.l4Off = -1;
    this.l4End = 0;
    this.l4Len = 0;
    this.payOff = -1;
    this.payLen = 0;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.quotedOff = -1;
    this.ndTargetOff = -1;
    this.arpOff = -1;
  }

  /** A frame that is not a non-first fragment and carries a TCP/UDP/ICMP header. */
  get hasL4(): boolean {
    return this.l4Off >= 0;
  }
}

/**
 * Decodes one frame of the given link type into out (reused) and computes
 * its fingerprint (unless `withFingerprint` is false: a caller that wants
 * only the NAT-tolerant one, or none, skips the work).
 */
export function decode(data: Uint8Array, start: number, length: number, linkType: number, out: Decoded, withFingerprint = true): Decoded {
  const end = Math.min(data.length, start + length);
  out.reset(data, start, end, linkType);
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      ethernet(out, data, start, end, 0);
      break;
    case LINKTYPE_LINUX_SLL:
      if (end - start >= 16) {
        out.sllPktType = (data[start]! << 8) | data[start + 1]!;
        out.sllAddrLen = Math.min(8, (data[start + 4]! << 8) | data[start + 5]!);
        out.sllAddrOff = start + 6;
        afterEtherType(out, data, start + 16, end, (data[start + 14]! << 8) | data[start + 15]!, 0);
      }
      break;
    case LINKTYPE_LINUX_SLL2:
      if (end - start >= 20) {
        out.sllIfindex = ((data[start + 4]! << 24) | (data[start + 5]! << 16) | (data[start + 6]! << 8) | data[start + 7]!) >>> 0;
        out.sllPktType = data[start + 10]!;
        out.sllAddrLen = Math.min(8, data[start + 11]!);
        out.sllAddrOff = start + 12;
        afterEtherType(out, data, start + 20, end, (data[start]! << 8) | data[start + 1]!, 0);
      }
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD:
    case LINKTYPE_RAW_OPENBSD:
      if (end > start) {
        const v = data[start]! >> 4;
        if (v === 4) ipv4(out, data, start, end, 0);
        else if (v === 6) ipv6(out, data, start, end, 0);
      }
      break;
    case LINKTYPE_IPV4:
      ipv4(out, data, start, end, 0);
      break;
    case LINKTYPE_IPV6:
      ipv6(out, data, start, end, 0);
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      if (end - start >= 4) {
        // NULL: the family in the writer's byte order; LOOP: network order.
        const be = ((data[start]! << 24) | (data[start + 1]! << 16) | (data[start + 2]! << 8) | data[start + 3]!) >>> 0;
        const le = ((data[start + 3]! << 24) | (data[start + 2]! << 16) | (data[start + 1]! << 8) | data[start]!) >>> 0;
        const fam = linkType === LINKTYPE_LOOP ? be : be < 256 ? be : le;
        if (fam === 2) ipv4(out, data, start + 4, end, 0);
        else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) ipv6(out, data, start + 4, end, 0);
      }
      break;
    default:
      break;
  }
  if (withFingerprint) fingerprint(out);
  else out.fpHi = out.natHi = -1;
  return out;
}

function ethernet(out: Decoded, d: Uint8Array, off: number, end: number, depth: number): void {
  if (end - off < 14) return;
  out.ethOff = off;
  let o = off + 12;
  let et = (d[o]! << 8) | d[o + 1]!;
  o += 2;
  while ((et === 0x8100 || et === 0x88a8 || et === 0x9100) && o + 4 <= end) {
    const tag = ((d[o]! << 8) | d[o + 1]!) & 0x0fff;
    if (out.vlanCount === 0) out.vlan0 = tag;
    else if (out.vlanCount === 1) out.vlan1 = tag;
    out.vlanCount++;
    et = (d[o + 2]! << 8) | d[o + 3]!;
    o += 4;
  }
  afterEtherType(out, d, o, end, et, depth);
}

function afterEtherType(out: Decoded, d: Uint8Array, o: number, end: number, et: number, depth: number): void {
  out.etherType = et;
  if (et === 0x0800) ipv4(out, d, o, end, depth);
  else if (et === 0x86dd) ipv6(out, d, o, end, depth);
  else if (et === 0x0806) {
    out.l3 = L3_ARP;
    out.l3Off = o;
    if (o + 28 <= end) {
      out.arpOff = o;
      out.arpOp = (d[o + 6]! << 8) | d[o + 7]!;
    }
  } else {
    out.l3 = L3_OTHER;
    out.l3Off = o;
  }
}

function ipv4(out: Decoded, d: Uint8Array, o: number, end: number, depth: number): void {
  out.l3 = L3_IPV4;
  out.l3Off = o;
  if (end - o < 20 || d[o]! >> 4 !== 4) {
    out.l3 = L3_OTHER;
    return;
  }
  const ihl = (d[o]! & 0x0f) * 4;
  if (ihl < 20) {
    out.l3 = L3_OTHER;
    return;
  }
  out.ipHdrLen = ihl;
  out.tos = d[o + 1]!;
  const total = (d[o + 2]! << 8) | d[o + 3]!;
  out.ipTotalLen = total;
  out.ipId = (d[o + 4]! << 8) | d[o + 5]!;
  const frag = (d[o + 6]! << 8) | d[o + 7]!;
  out.fragOffset = (frag & 0x1fff) * 8;
  out.moreFragments = (frag & 0x2000) !== 0;
  out.fragment = out.fragOffset !== 0 || out.moreFragments;
  out.ttl = d[o + 8]!;
  out.ipProto = d[o + 9]!;
  const l4 = o + ihl;
  // A header cut short by the capture: addresses known, no L4.
  if (l4 > end) return;
  const ipEnd = total >= ihl ? o + total : end;
  out.l4Len = Math.max(0, (total >= ihl ? total : end - o) - ihl);
  if (out.fragOffset !== 0) {
    // A later fragment: no L4 header, only its data.
    out.payOff = l4;
    out.payLen = out.l4Len;
    out.l4End = Math.min(end, ipEnd);
    return;
  }
  transport(out, d, l4, Math.min(end, ipEnd), out.ipProto, depth);
}

const EXT_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DSTOPTS = 60;
const EXT_MOBILITY = 135;

function ipv6(out: Decoded, d: Uint8Array, o: number, end: number, depth: number): void {
  out.l3 = L3_IPV6;
  out.l3Off = o;
  if (end - o < 40 || d[o]! >> 4 !== 6) {
    out.l3 = L3_OTHER;
    return;
  }
  out.tos = ((d[o]! & 0x0f) << 4) | (d[o + 1]! >> 4);
  out.flowLabel = ((d[o + 1]! & 0x0f) << 16) | (d[o + 2]! << 8) | d[o + 3]!;
  const plen = (d[o + 4]! << 8) | d[o + 5]!;
  out.ipTotalLen = 40 + plen;
  out.ttl = d[o + 7]!;
  let next = d[o + 6]!;
  let p = o + 40;
  const ipEnd = Math.min(end, o + 40 + plen);
  out.hopByHop = next === EXT_HOP;
  // Extension headers, bounded: at most 8 (no hostile loop can spin).
  for (let n = 0; n < 8; n++) {
    if (next === EXT_HOP || next === EXT_ROUTING || next === EXT_DSTOPTS || next === EXT_MOBILITY) {
      if (p + 8 > ipEnd) break;
      const len = (d[p + 1]! + 1) * 8;
      next = d[p]!;
      p += len;
      out.extHeaders++;
    } else if (next === EXT_AH) {
      if (p + 8 > ipEnd) break;
      const len = (d[p + 1]! + 2) * 4;
      next = d[p]!;
      p += len;
      out.extHeaders++;
    } else if (next === EXT_FRAGMENT) {
      if (p + 8 > ipEnd) break;
      const fo = (d[p + 2]! << 8) | d[p + 3]!;
      out.fragment = true;
      out.fragOffset = fo & 0xfff8;
      out.moreFragments = (fo & 1) === 1;
      out.ip6FragId = ((d[p + 4]! << 24) | (d[p + 5]! << 16) | (d[p + 6]! << 8) | d[p + 7]!) >>> 0;
      next = d[p]!;
      p += 8;
      out.extHeaders++;
    } else break;
  }
  out.ipProto = next;
  out.ipHdrLen = p - o;
  out.l4Len = Math.max(0, 40 + plen - (p - o));
  if (p > ipEnd) return;
  if (out.fragOffset !== 0) {
    out.payOff = p;
    out.payLen = out.l4Len;
    out.l4End = ipEnd;
    return;
  }
  transport(out, d, p, ipEnd, next, depth);
}

function transport(out: Decoded, d: Uint8Array, o: number, end: number, proto: number, depth: number): void {
  out.l4End = end;
  if (proto === PROTO_TCP) {
    if (o + 20 > end) return;
    out.l4Off = o;
    out.srcPort = (d[o]! << 8) | d[o + 1]!;
    out.dstPort = (d[o + 2]! << 8) | d[o + 3]!;
    out.seq = ((d[o + 4]! << 24) | (d[o + 5]! << 16) | (d[o + 6]! << 8) | d[o + 7]!) >>> 0;
    out.ack = ((d[o + 8]! << 24) | (d[o + 9]! << 16) | (d[o + 10]! << 8) | d[o + 11]!) >>> 0;
    const hl = (d[o + 12]! >> 4) * 4;
    out.tcpHdrLen = hl;
    out.tcpFlags = d[o + 13]! | ((d[o + 12]! & 1) << 8);
    out.window = (d[o + 14]! << 8) | d[o + 15]!;
    out.payOff = o + Math.max(20, hl);
    out.payLen = Math.max(0, out.l4Len - Math.max(20, hl));
  } else if (proto === PROTO_UDP) {
    if (o + 8 > end) return;
    out.l4Off = o;
    out.srcPort = (d[o]! << 8) | d[o + 1]!;
    out.dstPort = (d[o + 2]! << 8) | d[o + 3]!;
    out.udpLen = (d[o + 4]! << 8) | d[o + 5]!;
    out.payOff = o + 8;
    out.payLen = Math.max(0, Math.min(out.udpLen, out.l4Len) - 8);
    // VXLAN: decode the inner frame; the outer headers stay reachable through outer*.
    if (depth === 0 && out.dstPort === VXLAN_PORT && o + 8 + 8 + 14 <= end && (d[o + 8]! & 0x08) !== 0) {
      const vni = (d[o + 12]! << 16) | (d[o + 13]! << 8) | d[o + 14]!;
      out.tunnel = true;
      out.vni = vni;
      out.outerEthOff = out.ethOff;
      out.outerL3Off = out.l3Off;
      out.outerL3 = out.l3;
      out.outerL4Off = o;
      out.ethOff = -1;
      out.vlanCount = 0;
      out.vlan0 = out.vlan1 = -1;
      out.resetL3();
      ethernet(out, d, o + 16, end, 1);
    }
  } else if (proto === PROTO_ICMP || proto === PROTO_ICMP6) {
    if (o + 4 > end) return;
    out.l4Off = o;
    const type = d[o]!;
    out.icmpType = type;
    out.icmpCode = d[o + 1]!;
    out.payOff = o + 8;
    out.payLen = Math.max(0, out.l4Len - 8);
    const echo = proto === PROTO_ICMP ? type === 0 || type === 8 || type === 13 || type === 14 : type === 128 || type === 129;
    if (echo && o + 8 <= end) {
      out.icmpId = (d[o + 4]! << 8) | d[o + 5]!;
      out.icmpSeq = (d[o + 6]! << 8) | d[o + 7]!;
    }
    const error = proto === PROTO_ICMP ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type < 128;
    if (error && o + 8 < end) out.quotedOff = o + 8;
    if (proto === PROTO_ICMP6 && (type === 135 || type === 136 || type === 137) && o + 24 <= end) out.ndTargetOff = o + 8;
  } else {
    // Another protocol (GRE, ESP, SCTP, ...): its first bytes identify it.
    out.payOff = o;
    out.payLen = out.l4Len;
  }
}

// --- fingerprints -----------------------------------------------------------

const SEED_A = 0x9747b28c | 0;
const SEED_B = 0x5bd1e995 | 0;

const W = new Int32Array(64);
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

/** The two hash lanes of the last murmur2 (a typed array: no number boxed per packet). */
const LANES = new Uint32Array(2);
let lastWords = 0;

/**
 * The words the last fingerprint() hashed (its exact identity before
 * hashing): the benchmark compares these to measure collisions.
 */
export function lastIdentityWords(): number[] {
  return Array.from(W.subarray(0, lastWords));
}

/** murmur3's 32-bit mixing over the words, two lanes (seeds) in one pass, into LANES. */
function murmur2(words: Int32Array, n: number, seedA: number, seedB: number): void {
  let a = seedA;
  let b = seedB;
  for (let i = 0; i < n; i++) {
    let k = Math.imul(words[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    b ^= k;
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
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
  murmur2(W, n, SEED_A, SEED_B);
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
  murmur2(N, m, SEED_A ^ 0x5a5a5a5a, SEED_B ^ 0x5a5a5a5a);
  out.natHi = LANES[0]!;
  out.natLo = LANES[1]!;
}

export function fingerprintHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Protocol classes counted by statistics, indexed by protoClass(). */
export const PROTO_CLASSES = ['tcp', 'udp', 'icmp', 'icmp6', 'arp', 'ip-fragment', 'ip-other', 'other', 'undecoded', 'vxlan'] as const;

/** Index into PROTO_CLASSES (the innermost packet's protocol for a tunnel). */
export function protoClass(p: Decoded): number {
  switch (p.l3) {
    case L3_ARP:
      return 4;
    case L3_IPV4:
    case L3_IPV6:
      if (p.l4Off < 0) return p.fragment ? 5 : 6;
      switch (p.ipProto) {
        case PROTO_TCP:
          return 0;
        case PROTO_UDP:
          return 1;
        case PROTO_ICMP:
          return 2;
        case PROTO_ICMP6:
          return 3;
        default:
          return 6;
      }
    case L3_OTHER:
      return 7;
    default:
      return 8;
  }
}
