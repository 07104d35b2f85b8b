/** The decoded record of one packet: flat numbers, reused for every packet (decode.ts fills it). */

/** 0 as a double: fields that will hold unsigned 32-bit words start as one (see reader.ts, DOUBLE_ZERO). */
const DOUBLE_ZERO = -0;

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
export const GENEVE_PORT = 6081;

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

  /** VXLAN, Geneve: the outer frame's offsets; the fields above describe the inner frame. */
  tunnel = false;
  vni = -1;
  outerEthOff = -1;
  outerL3Off = -1;
  outerL3 = L3_NONE;
  outerL4Off = -1;

  /** 64-bit identity across hops as two 32-bit halves (-1: not computed), and the NAT-tolerant one (natFingerprint(); -1 until computed). */
  fpHi = DOUBLE_ZERO;
  fpLo = DOUBLE_ZERO;
  natHi = DOUBLE_ZERO;
  natLo = DOUBLE_ZERO;

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

/** Protocol classes counted by statistics, indexed by protoClass(). */
export const PROTO_CLASSES = [
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'arp',
  'ip-fragment',
  'ip-other',
  'other',
  'undecoded',
  'vxlan',
] as const;

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
