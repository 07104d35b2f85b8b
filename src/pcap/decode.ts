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
import {
  Decoded,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  L3_OTHER,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  VXLAN_PORT,
  GENEVE_PORT,
} from './decoded.js';
import { fingerprint } from './fingerprint.js';

/**
 * Protocol decoding into one reused, flat record of numbers: offsets and
 * header fields, no strings and no allocation per packet. Text (addresses,
 * summaries) is made only when asked for (see summary.ts). Every read is
 * bounds-checked against the captured length: a frame cut short by the
 * snaplen is decoded as far as it goes.
 *
 * Decoding also computes the packet's fingerprints (see fingerprint()).
 */
/**
 * Decodes one frame of the given link type into out (reused) and computes
 * its fingerprint (unless `withFingerprint` is false: a caller that wants
 * only the NAT-tolerant one, or none, skips the work).
 */
export function decode(
  data: Uint8Array,
  start: number,
  length: number,
  linkType: number,
  out: Decoded,
  withFingerprint = true,
): Decoded {
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
        out.sllIfindex =
          ((data[start + 4]! << 24) | (data[start + 5]! << 16) | (data[start + 6]! << 8) | data[start + 7]!) >>> 0;
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
      enterTunnel(out, o, (d[o + 12]! << 16) | (d[o + 13]! << 8) | d[o + 14]!);
      ethernet(out, d, o + 16, end, 1);
    } else if (depth === 0 && out.dstPort === GENEVE_PORT) geneve(out, d, o, end);
  } else if (proto === PROTO_ICMP || proto === PROTO_ICMP6) {
    if (o + 4 > end) return;
    out.l4Off = o;
    const type = d[o]!;
    out.icmpType = type;
    out.icmpCode = d[o + 1]!;
    out.payOff = o + 8;
    out.payLen = Math.max(0, out.l4Len - 8);
    const echo =
      proto === PROTO_ICMP ? type === 0 || type === 8 || type === 13 || type === 14 : type === 128 || type === 129;
    if (echo && o + 8 <= end) {
      out.icmpId = (d[o + 4]! << 8) | d[o + 5]!;
      out.icmpSeq = (d[o + 6]! << 8) | d[o + 7]!;
    }
    const error =
      proto === PROTO_ICMP ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type < 128;
    if (error && o + 8 < end) out.quotedOff = o + 8;
    if (proto === PROTO_ICMP6 && (type === 135 || type === 136 || type === 137) && o + 24 <= end)
      out.ndTargetOff = o + 8;
  } else {
    // Another protocol (GRE, ESP, SCTP, ...): its first bytes identify it.
    out.payOff = o;
    out.payLen = out.l4Len;
  }
}

/** A tunnel's UDP header at o: the outer headers move to outer*, the fields describe what is inside. */
function enterTunnel(out: Decoded, o: number, vni: number): void {
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
}

/**
 * Geneve (UDP 6081, RFC 8926) at o (the UDP header): version 0, its options within the UDP payload
 * and captured, an Ethernet (TEB), IPv4, IPv6 or ARP packet inside: decoded like VXLAN's, the outer
 * headers kept in outer*. Anything else stays a UDP datagram (summary.ts prints tcpdump's text).
 */
function geneve(out: Decoded, d: Uint8Array, o: number, end: number): void {
  const g = o + 8;
  if (g + 8 > end || d[g]! >> 6 !== 0) return;
  const inner = g + 8 + (d[g]! & 0x3f) * 4;
  const proto = (d[g + 2]! << 8) | d[g + 3]!;
  if (inner > end || inner - o > 8 + out.payLen) return;
  if (proto !== 0x6558 && proto !== 0x0800 && proto !== 0x86dd && proto !== 0x0806) return;
  enterTunnel(out, o, (d[g + 4]! << 16) | (d[g + 5]! << 8) | d[g + 6]!);
  if (proto === 0x6558) ethernet(out, d, inner, end, 1);
  else afterEtherType(out, d, inner, end, proto, 1);
}

// --- fingerprints -----------------------------------------------------------
