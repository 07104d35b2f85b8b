import type { HopPacket } from '../model/packet.js';
import {
  arpFields,
  Decoded,
  decode,
  fingerprintHex,
  ip4Text,
  ipAddresses,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  macText,
  natFingerprint,
  PcapReader,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  quotedText,
  readStream,
  tcpFlagsText,
  ipv6Text,
  summarize,
} from '../pcap/index.js';

/**
 * The pcap engine's packets as the correlator sees them (HopPacket): the
 * live tcpdump pipes of diagnose and the files `analyze` is given. The
 * engine decodes into numbers; this is where the few strings the
 * correlator compares are made, and the bytes it keeps are copied.
 */

const shared = new Decoded();

/**
 * MACs and IPv4 addresses repeat packet after packet: one string for each (a bounded table,
 * emptied when full), not a new one per packet. A live capture keeps every packet of the window
 * (up to runSession's maxPackets); the strings were half of what each one kept.
 */
const MAX_NAMES = 1 << 16;
const macNames = new Map<number, string>();
const ip4Names = new Map<number, string>();

function macName(b: Uint8Array, o: number): string {
  const key =
    ((b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!) * 0x1000000 + ((b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!);
  let s = macNames.get(key);
  if (s === undefined) {
    if (macNames.size >= MAX_NAMES) macNames.clear();
    s = flat(macText(b, o));
    macNames.set(key, s);
  }
  return s;
}

function ip4Name(b: Uint8Array, o: number): string {
  const key = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  let s = ip4Names.get(key);
  if (s === undefined) {
    if (ip4Names.size >= MAX_NAMES) ip4Names.clear();
    s = flat(ip4Text(b, o));
    ip4Names.set(key, s);
  }
  return s;
}

/**
 * A string built by concatenation is a tree of pieces in V8 (a summary: some 40 of them, 800
 * bytes); reading a character flattens it in place into one run of bytes, which is what a
 * string kept for long should be.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** Reads a tcpdump pipe (`-w -`) to its end; a record cut short when tcpdump stopped is dropped. */
export async function readHopPackets(
  stream: NodeJS.ReadableStream,
  hop: number,
  onPacket: (p: HopPacket) => void,
): Promise<void> {
  const reader = new PcapReader('capture');
  await readStream(stream, reader, (r) => onPacket(hopPacketOf(hop, r)), { strict: false });
}

/** The reader's current packet as a HopPacket (bytes copied: the reader reuses its buffer). */
export function hopPacketOf(hop: number, r: PcapReader, d: Decoded = shared): HopPacket {
  decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
  return fromDecoded(hop, r.tsNs(), d, r.origLen, true);
}

/** Decodes one captured frame (tests, tools). */
export function decodePacket(
  hop: number,
  tsNs: bigint,
  data: Uint8Array,
  wireLength: number,
  linkType: number,
): HopPacket {
  decode(data, 0, data.length, linkType, shared);
  return fromDecoded(hop, tsNs, shared, wireLength, false);
}

export function fromDecoded(hop: number, tsNs: bigint, d: Decoded, wireLength: number, copy: boolean): HopPacket {
  natFingerprint(d);
  const bytes = d.data.subarray(d.start, d.end);
  const p: HopPacket = {
    hop,
    tsNs,
    fp: fingerprintHex(d.fpHi, d.fpLo),
    natFp: fingerprintHex(d.natHi, d.natLo),
    kind: d.l3 === L3_IPV4 ? 'ipv4' : d.l3 === L3_IPV6 ? 'ipv6' : d.l3 === L3_ARP ? 'arp' : 'other',
    length: wireLength,
    data: copy ? Uint8Array.from(bytes) : bytes,
    summary: '',
    linkType: d.linkType,
  };
  if (d.ethOff >= 0) {
    p.dstMac = macName(d.data, d.ethOff);
    p.srcMac = macName(d.data, d.ethOff + 6);
  }
  if (d.vlanCount > 0) p.vlan = d.vlan0;
  const a =
    d.l3 === L3_IPV4 ? { src: ip4Name(d.data, d.l3Off + 12), dst: ip4Name(d.data, d.l3Off + 16) } : ipAddresses(d);
  if (a) {
    p.src = a.src;
    p.dst = a.dst;
    p.ttl = d.ttl;
    if (d.l4Off >= 0) {
      const proto = d.ipProto;
      p.proto =
        proto === PROTO_TCP
          ? 'tcp'
          : proto === PROTO_UDP
            ? 'udp'
            : proto === PROTO_ICMP
              ? 'icmp'
              : proto === PROTO_ICMP6
                ? 'icmp6'
                : 'other';
      if (proto === PROTO_TCP || proto === PROTO_UDP) {
        p.srcPort = d.srcPort;
        p.dstPort = d.dstPort;
      }
      if (proto === PROTO_TCP) p.tcpFlags = tcpFlagsText(d.tcpFlags);
      if (proto === PROTO_ICMP || proto === PROTO_ICMP6) {
        p.icmpType = d.icmpType;
        p.icmpCode = d.icmpCode;
        const q = quotedOf(d);
        if (q) p.quoted = q;
      }
    } else p.proto = 'other';
  }
  const arp = arpFields(d);
  if (arp) {
    p.arpOp = arp.op;
    p.arpSenderIp = arp.senderIp;
    p.arpSenderMac = arp.senderMac;
    p.arpTargetIp = arp.targetIp;
  }
  if (
    d.l3 === L3_IPV6 &&
    d.ipProto === PROTO_ICMP6 &&
    (d.icmpType === 135 || d.icmpType === 136) &&
    d.ndTargetOff >= 0 &&
    d.ndTargetOff + 16 <= d.l4End
  ) {
    // NDP is IPv6's ARP (RFC 4861): a neighbour solicitation asks who has the
    // target address, an advertisement answers for it. Put into the ARP fields
    // so that loss localization and the checks treat both alike.
    const target = ipv6Text(d.data, d.ndTargetOff);
    const solicit = d.icmpType === 135;
    p.arpOp = solicit ? 1 : 2;
    p.arpSenderIp = solicit ? a!.src : target;
    p.arpTargetIp = solicit ? target : a!.dst;
    const ll = ndLinkLayerOption(d, solicit ? 1 : 2);
    if (ll ?? p.srcMac) p.arpSenderMac = (ll ?? p.srcMac)!;
  }
  const text = summarize(d, wireLength, false, true);
  p.summary = flat(p.srcMac ? `${p.srcMac} > ${p.dstMac}, ${text}` : text);
  return p;
}

/** The source (1) or target (2) link-layer address option of an NS/NA, when present. */
function ndLinkLayerOption(d: Decoded, type: number): string | undefined {
  const b = d.data;
  let o = d.ndTargetOff + 16;
  while (o + 8 <= d.l4End) {
    const len = b[o + 1]! * 8;
    if (len === 0) return undefined;
    if (b[o] === type && len >= 8) return macText(b, o + 2);
    o += len;
  }
  return undefined;
}

function quotedOf(d: Decoded): HopPacket['quoted'] {
  const text = quotedText(d);
  if (!text) return undefined;
  // "a.b.c.d.p > e.f.g.h.q: tcp" or "a > b: icmp"
  const m = /^(\S+) > (\S+): (\S+)$/.exec(text);
  if (!m) return undefined;
  const split = (s: string, proto: string) => {
    if (proto !== 'tcp' && proto !== 'udp') return { addr: s };
    const i = s.lastIndexOf('.');
    return { addr: s.slice(0, i), port: Number(s.slice(i + 1)) };
  };
  const src = split(m[1]!, m[3]!);
  const dst = split(m[2]!, m[3]!);
  return {
    src: src.addr,
    dst: dst.addr,
    proto: m[3]!,
    ...(src.port !== undefined ? { srcPort: src.port } : {}),
    ...(dst.port !== undefined ? { dstPort: dst.port } : {}),
  };
}
