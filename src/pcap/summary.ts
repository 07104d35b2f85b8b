import { fingerprintHex, natFingerprint } from './fingerprint.js';
import {
  Decoded,
  GENEVE_PORT,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  L3_NONE,
  L3_OTHER,
  PROTO_CLASSES,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  protoClass,
} from './decoded.js';
import { LINKTYPE_ETHERNET, linkTypeName } from './linktypes.js';
import { ipv6Text } from './reader.js';
import type { TcpRelative } from './tcp-relative.js';
import { tcpFlagsText, tcpText } from './tcp-text.js';

export { tcpFlagsText } from './tcp-text.js';
export { TcpRelative } from './tcp-relative.js';

/** Text of decoded fields, made only when asked for: tcpdump's `-nn` vocabulary. */

const hex2 = (b: number) => (b < 16 ? '0' : '') + b.toString(16);

export function macText(d: Uint8Array, o: number, len = 6): string {
  let s = hex2(d[o]!);
  for (let i = 1; i < len; i++) s += `:${hex2(d[o + i]!)}`;
  return s;
}

export function ip4Text(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

/** Source and destination address of the (inner) IP header, or undefined. */
export function ipAddresses(p: Decoded): { src: string; dst: string } | undefined {
  const d = p.data;
  const o = p.l3Off;
  if (p.l3 === L3_IPV4) return { src: ip4Text(d, o + 12), dst: ip4Text(d, o + 16) };
  if (p.l3 === L3_IPV6) return { src: ipv6Text(d, o + 8), dst: ipv6Text(d, o + 24) };
  return undefined;
}

export function arpFields(
  p: Decoded,
): { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string } | undefined {
  if (p.l3 !== L3_ARP || p.arpOff < 0) return undefined;
  const d = p.data;
  const o = p.arpOff;
  return {
    op: p.arpOp,
    senderMac: macText(d, o + 8),
    senderIp: ip4Text(d, o + 14),
    targetMac: macText(d, o + 18),
    targetIp: ip4Text(d, o + 24),
  };
}

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackOK?: boolean;
  sack?: Array<[number, number]>;
  tsval?: number;
  tsecr?: number;
}

/**
 * The TCP options --json reports (MSS, window scale, SACK permitted, SACK blocks, timestamps, with
 * absolute numbers), bounds-checked. The text of every option is tcp-text.ts's.
 */
export function tcpOptions(p: Decoded): TcpOptions {
  const out: TcpOptions = {};
  if (p.l4Off < 0 || p.ipProto !== PROTO_TCP) return out;
  const d = p.data;
  const end = Math.min(p.l4End, p.l4Off + p.tcpHdrLen);
  let o = p.l4Off + 20;
  const u32 = (x: number) => ((d[x]! << 24) | (d[x + 1]! << 16) | (d[x + 2]! << 8) | d[x + 3]!) >>> 0;
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    if (o + 1 >= end) break;
    const len = d[o + 1]!;
    if (len < 2 || o + len > end) break;
    if (kind === 2 && len === 4) out.mss = (d[o + 2]! << 8) | d[o + 3]!;
    else if (kind === 3 && len === 3) out.wscale = d[o + 2]!;
    else if (kind === 4 && len === 2) out.sackOK = true;
    else if (kind === 5 && (len - 2) % 8 === 0) {
      out.sack = [];
      for (let i = o + 2; i + 8 <= o + len; i += 8) out.sack.push([u32(i), u32(i + 4)]);
    } else if (kind === 8 && len === 10) {
      out.tsval = u32(o + 2);
      out.tsecr = u32(o + 6);
    }
    o += len;
  }
  return out;
}

/** tcpdump's icmp2str, and the names of the errors (whose text icmp4ErrorText makes). */
const ICMP4_NAMES: Record<number, string> = {
  0: 'echo reply',
  4: 'source quench',
  8: 'echo request',
  10: 'router solicitation',
  13: 'time stamp request',
  14: 'time stamp reply',
  15: 'information request',
  16: 'information reply',
  17: 'address mask request',
  3: 'unreachable',
  5: 'redirect',
  11: 'time exceeded in-transit',
  12: 'parameter problem',
};
/** tcpdump's texts of ICMP unreachable codes (print-icmp.c); %s: the quoted packet's destination. */
const UNREACH4: Record<number, string> = {
  0: 'net %s unreachable',
  1: 'host %s unreachable',
  5: '%s unreachable - source route failed',
  6: 'net %s unreachable - unknown',
  7: 'host %s unreachable - unknown',
  8: '%s unreachable - source host isolated',
  9: 'net %s unreachable - admin prohibited',
  10: 'host %s unreachable - admin prohibited',
  11: 'net %s unreachable - tos prohibited',
  12: 'host %s unreachable - tos prohibited',
  13: 'host %s unreachable - admin prohibited filter',
  14: 'host %s unreachable - host precedence violation',
  15: 'host %s unreachable - precedence cutoff',
};
const REDIRECT4 = ['redirect %s to net', 'redirect %s to host', 'redirect-tos %s to net', 'redirect-tos %s to host'];

/**
 * An ICMP error's text as tcpdump -nn prints it without -v (print-icmp.c), from the quoted IP
 * header: "192.0.2.11 udp port 9999 unreachable", "time exceeded in-transit", ... null where
 * tcpdump finds the bytes it reads not captured (it prints " [|icmp]" instead).
 */
function icmp4ErrorText(p: Decoded): string | null {
  const d = p.data;
  const o = p.l4Off;
  const q = o + 8;
  const code = p.icmpCode;
  const end = p.l4End;
  const qdst = () => (q + 20 <= end ? ip4Text(d, q + 16) : null);
  if (p.icmpType === 11) {
    if (q + 20 > end) return null;
    return code === 0
      ? 'time exceeded in-transit'
      : code === 1
        ? 'ip reassembly time exceeded'
        : `time exceeded-#${code}`;
  }
  if (p.icmpType === 12) {
    if (code) return `parameter problem - code ${code}`;
    return o + 5 <= end ? `parameter problem - octet ${d[o + 4]}` : null;
  }
  if (p.icmpType === 5) {
    const dst = qdst();
    if (dst === null || o + 8 > end) return null;
    const gw = ip4Text(d, o + 4);
    return code < 4 ? `${REDIRECT4[code]!.replace('%s', dst)} ${gw}` : `redirect-#${code} ${dst} to ${gw}`;
  }
  if (code === 3) {
    if (q + 10 > end) return null;
    const dp = q + (d[q]! & 0x0f) * 4 + 2;
    if (dp + 2 > end) return null;
    const port = (d[dp]! << 8) | d[dp + 1]!;
    const proto = d[q + 9]!;
    const dst = qdst();
    if (dst === null) return null;
    return `${dst} ${proto === PROTO_TCP ? 'tcp port' : proto === PROTO_UDP ? 'udp port' : `protocol ${proto} port`} ${port} unreachable`;
  }
  if (code === 4) {
    if (o + 8 > end) return null;
    const mtu = (d[o + 6]! << 8) | d[o + 7]!;
    const dst = qdst();
    if (dst === null) return null;
    return `${dst} unreachable - need to frag${mtu ? ` (mtu ${mtu})` : ''}`;
  }
  const dst = qdst();
  if (dst === null) return null;
  if (code === 2) return `${dst} protocol ${d[q + 9]} unreachable`;
  return (UNREACH4[code] ?? `%s unreachable - #${code}`).replace('%s', dst);
}

const ICMP6_NAMES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded in-transit',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'multicast listener report v2',
};

/** The quoted packet of an ICMP error, as "IP a.b.c.d.p > e.f.g.h.q: proto". */
export function quotedText(p: Decoded): string | undefined {
  if (p.quotedOff < 0) return undefined;
  const d = p.data;
  const q = p.quotedOff;
  const end = p.l4End;
  if (q + 20 <= end && d[q]! >> 4 === 4) {
    const ihl = (d[q]! & 0x0f) * 4;
    const proto = d[q + 9]!;
    const src = ip4Text(d, q + 12);
    const dst = ip4Text(d, q + 16);
    const l4 = q + ihl;
    if ((proto === PROTO_TCP || proto === PROTO_UDP) && l4 + 4 <= end) {
      const sp = (d[l4]! << 8) | d[l4 + 1]!;
      const dp = (d[l4 + 2]! << 8) | d[l4 + 3]!;
      return `${src}.${sp} > ${dst}.${dp}: ${proto === PROTO_TCP ? 'tcp' : 'udp'}`;
    }
    return `${src} > ${dst}: ${proto === PROTO_ICMP ? 'icmp' : `ip-proto-${proto}`}`;
  }
  if (q + 40 <= end && d[q]! >> 4 === 6) return `${ipv6Text(d, q + 8)} > ${ipv6Text(d, q + 24)}: ip-proto-${d[q + 6]}`;
  return undefined;
}

/**
 * A TCP, UDP or ICMP header decode() could not take whole (cut by the snaplen or the IP length):
 * what tcpdump prints, "a.p > b.q:  [|tcp]", "... truncated-udp N"; undefined for other protocols.
 */
function headerCutText(p: Decoded, ip: string, src: string, dst: string, frag: string): string | undefined {
  const icmp = p.ipProto === PROTO_ICMP ? 'icmp' : p.ipProto === PROTO_ICMP6 ? 'icmp6' : undefined;
  if (p.ipProto !== PROTO_TCP && p.ipProto !== PROTO_UDP && !icmp) return undefined;
  const tcp = p.ipProto === PROTO_TCP;
  const l4 = p.l3Off + p.ipHdrLen;
  const end = Math.min(p.end, p.ipTotalLen >= p.ipHdrLen ? p.l3Off + p.ipTotalLen : p.end);
  if (l4 > end) return undefined;
  if (icmp) return `${ip} ${src} > ${dst}:${frag}  [|${icmp}]`;
  const d = p.data;
  if (l4 + 4 > end) return `${ip} ${src} > ${dst}:${frag}${tcp ? ' [|tcp]' : '  [|udp]'}`;
  const head = `${ip} ${src}.${(d[l4]! << 8) | d[l4 + 1]!} > ${dst}.${(d[l4 + 2]! << 8) | d[l4 + 3]!}:${frag} `;
  if (tcp) return `${head} [|tcp]`;
  return p.l4Len < 8 ? `${head}truncated-udp ${p.l4Len}` : `${head} [|udp]`;
}

function l4Text(p: Decoded, src: string, dst: string, compact: boolean, rel: TcpRelative | undefined): string {
  const ip = p.l3 === L3_IPV6 ? 'IP6' : 'IP';
  // As tcpdump -nn prints them: IPv6 fragments as "frag (offset|length)", IPv4 later
  // fragments as their protocol only; "HBH" for a hop-by-hop options header.
  const v6frag = p.fragment && p.l3 === L3_IPV6 ? ` frag (${p.fragOffset}|${p.l4Len})` : '';
  const frag = `${p.hopByHop ? ' HBH' : ''}${v6frag}`;
  if (p.l4Off < 0) {
    if (p.fragment && p.fragOffset > 0)
      return p.l3 === L3_IPV6 ? `${ip} ${src} > ${dst}:${frag}` : `${ip} ${src} > ${dst}: ip-proto-${p.ipProto}`;
    return headerCutText(p, ip, src, dst, frag) ?? `${ip} ${src} > ${dst}:${frag} ip-proto-${p.ipProto} ${p.l4Len}`;
  }
  switch (p.ipProto) {
    case PROTO_TCP: {
      const head = `${ip} ${src}.${p.srcPort} > ${dst}.${p.dstPort}:${frag} `;
      if (!compact) return head + tcpText(p, rel);
      // Reports: absolute numbers, no options (lines must fit), seq always (it identifies the segment).
      const f = p.tcpFlags;
      const seq = p.payLen > 0 ? `${p.seq}:${(p.seq + p.payLen) >>> 0}` : String(p.seq);
      return `${head}Flags [${tcpFlagsText(f)}], seq ${seq}${f & 0x10 ? `, ack ${p.ack}` : ''}, win ${p.window}, length ${p.payLen}`;
    }
    case PROTO_UDP: {
      const head = `${ip} ${src}.${p.srcPort} > ${dst}.${p.dstPort}:${frag} `;
      if (p.udpLen < 8) return `${head}truncated-udplength ${p.udpLen}`;
      if (p.dstPort === GENEVE_PORT && !compact) return head + geneveUndecoded(p);
      // tcpdump: a UDP length beyond the IP payload is "bad" (not for a fragment: the rest follows).
      if (p.udpLen > p.l4Len && !p.fragment) return `${head}UDP, bad length ${p.udpLen - 8} > ${p.l4Len - 8}`;
      return `${head}UDP, length ${p.udpLen - 8}`;
    }
    case PROTO_ICMP: {
      const name = ICMP4_NAMES[p.icmpType] ?? `type-#${p.icmpType}`;
      if (p.icmpId >= 0)
        return `${ip} ${src} > ${dst}:${frag} ICMP ${name}, id ${p.icmpId}, seq ${p.icmpSeq}, length ${p.l4Len}`;
      const text =
        p.icmpType === 3 || p.icmpType === 5 || p.icmpType === 11 || p.icmpType === 12 ? icmp4ErrorText(p) : undefined;
      if (text === null) return `${ip} ${src} > ${dst}:  [|icmp]`;
      // Reports add the quoted packet (tcpdump shows it only with -v), except for an unreachable,
      // whose text names its destination already.
      const q = compact && p.icmpType !== 3 ? quotedText(p) : undefined;
      return `${ip} ${src} > ${dst}: ICMP ${text ?? name}${q ? ` (${q})` : ''}, length ${p.l4Len}`;
    }
    case PROTO_ICMP6: {
      const name = ICMP6_NAMES[p.icmpType] ?? `unknown icmp6 type (${p.icmpType})`;
      let extra = '';
      if (p.icmpType === 143 && p.l4Off + 8 <= p.l4End) {
        const n = (p.data[p.l4Off + 6]! << 8) | p.data[p.l4Off + 7]!;
        extra = `, ${n} group record(s)`;
      }
      if (p.icmpId >= 0) extra = `, id ${p.icmpId}, seq ${p.icmpSeq}`;
      else if (p.ndTargetOff >= 0 && p.ndTargetOff + 16 <= p.l4End)
        extra = `, ${p.icmpType === 136 ? 'tgt is' : 'who has'} ${ipv6Text(p.data, p.ndTargetOff)}`;
      else if (p.quotedOff >= 0) {
        const q = quotedText(p);
        if (q) extra = ` (${q})`;
      }
      return `${ip} ${src} > ${dst}:${frag} ICMP6, ${name}${extra}, length ${p.l4Len}`;
    }
    default:
      return `${ip} ${src} > ${dst}: ip-proto-${p.ipProto} ${p.l4Len}`;
  }
}

const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4',
  0x86dd: 'IPv6',
  0x0806: 'ARP',
  0x8100: '802.1Q',
  0x88a8: '802.1Q-QinQ',
  0x88cc: 'LLDP',
};

function ethertypeText(et: number): string {
  return `ethertype ${ETHERTYPE_NAMES[et] ?? 'Unknown'} (0x${et.toString(16).padStart(4, '0')})`;
}

/** The network-layer part of the summary (what tcpdump -nn prints after the timestamp). */
export function networkText(p: Decoded, wireLength: number, compact = false, rel?: TcpRelative): string {
  if (p.l3 === L3_IPV4 || p.l3 === L3_IPV6) {
    const a = ipAddresses(p)!;
    const text = l4Text(p, a.src, a.dst, compact, rel);
    // An IPv4 total length beyond the frame: tcpdump says so before the addresses.
    const missing = p.l3 === L3_IPV4 && !p.tunnel ? p.ipTotalLen - (wireLength - (p.l3Off - p.start)) : 0;
    return missing > 0 ? `IP truncated-ip - ${missing} bytes missing! ${text.slice(3)}` : text;
  }
  if (p.l3 === L3_ARP) {
    // tcpdump's length: the frame after the link-layer header (padding included).
    return arpText(p, wireLength - (p.l3Off - p.start));
  }
  if (p.l3 === L3_OTHER && (p.etherType === 0x0800 || p.etherType === 0x86dd)) {
    // An IP header decode() could not take: tcpdump's words for why.
    const d = p.data;
    const o = p.l3Off;
    if (p.etherType === 0x86dd) {
      if (o + 40 > p.end) return ' [|ip6]';
      return `IP6 version error: ${d[o]! >> 4} != 6`;
    }
    if (o >= p.end) return ' [|ip]';
    const v = d[o]! >> 4;
    if (v === 6) return 'IP6, wrong link-layer encapsulation (invalid)';
    if (v !== 4) return `IP${v} (invalid)`;
    if (o + 20 > p.end) return 'IP  [|ip]';
    return `IP bad-hlen ${(d[o]! & 0x0f) * 4}`;
  }
  if (p.l3 === L3_OTHER && p.etherType) return `${ethertypeText(p.etherType)}, length ${wireLength}`;
  // An Ethernet header cut short (also a tunnel's inner one).
  if (p.l3 === L3_NONE && (p.linkType === LINKTYPE_ETHERNET || p.tunnel)) return ' [|ether]';
  return `${linkTypeName(p.linkType)}, length ${wireLength}`;
}

const ARP_OPS: Record<number, string> = {
  1: 'Request',
  2: 'Reply',
  3: 'Reverse Request',
  4: 'Reverse Reply',
  8: 'Inverse Request',
  9: 'Inverse Reply',
  10: 'NACK Reply',
};
const ARP_HARDWARE: Record<number, string> = {
  1: 'Ethernet',
  6: 'TokenRing',
  7: 'ArcNet',
  15: 'FrameRelay',
  23: 'Strip',
  24: 'IEEE 1394',
  19: 'ATM',
  32: 'InfiniBand',
};

/** ARP as tcpdump -nn prints it (print-arp.c): any hardware and protocol address lengths; cut short: " [|arp]". */
function arpText(p: Decoded, len: number): string {
  const d = p.data;
  const o = p.l3Off;
  if (o + 8 > p.end) return ' [|arp]';
  const hrd = (d[o]! << 8) | d[o + 1]!;
  const pro = (d[o + 2]! << 8) | d[o + 3]!;
  const hln = d[o + 4]!;
  const pln = d[o + 5]!;
  const op = (d[o + 6]! << 8) | d[o + 7]!;
  const sha = o + 8;
  const spa = sha + hln;
  const tha = spa + pln;
  const tpa = tha + hln;
  if (tpa + pln > p.end) return ' [|arp]';
  if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0) {
    const proto = ETHERTYPE_NAMES[pro] ?? `Unknown Protocol (0x${pro.toString(16).padStart(4, '0')})`;
    return `ARP, ${ARP_HARDWARE[hrd] ?? `Unknown Hardware (${hrd})`} (len ${hln}), ${proto} (len ${pln}), length ${len}`;
  }
  const name = ARP_OPS[op] ?? `Unknown (${op})`;
  const mac = (a: number) => (hln > 0 ? macText(d, a, hln) : '');
  let nonzero = false;
  for (let i = 0; i < hln; i++) if (d[tha + i]) nonzero = true;
  switch (op) {
    case 1:
      return `ARP, ${name} who-has ${ip4Text(d, tpa)}${nonzero ? ` (${mac(tha)})` : ''} tell ${ip4Text(d, spa)}, length ${len}`;
    case 2:
      return `ARP, ${name} ${ip4Text(d, spa)} is-at ${mac(sha)}, length ${len}`;
    case 3:
    case 8:
      return `ARP, ${name} who-is ${mac(tha)} tell ${mac(sha)}, length ${len}`;
    case 4:
      return `ARP, ${name} ${mac(tha)} at ${ip4Text(d, tpa)}, length ${len}`;
    case 9:
      return `ARP, ${name} ${mac(sha)} at ${ip4Text(d, spa)}, length ${len}`;
    default:
      // tcpdump dumps the rest in hex on the next lines: no length on this one.
      return `ARP, ${name} `;
  }
}

/** The link-layer prefix tcpdump -e prints. */
export function linkText(p: Decoded, wireLength: number): string {
  const d = p.data;
  const eth = p.tunnel ? p.outerEthOff : p.ethOff;
  if (eth >= 0) {
    let s = `${macText(d, eth + 6)} > ${macText(d, eth)}`;
    if (p.vlanCount > 0 && !p.tunnel) {
      s += `, ethertype 802.1Q (0x8100), length ${wireLength}: vlan ${p.vlan0}`;
      if (p.vlanCount > 1) s += `, vlan ${p.vlan1}`;
      return `${s}, ${ethertypeText(p.etherType)}`;
    }
    const et = p.tunnel ? (p.outerL3 === L3_IPV6 ? 0x86dd : 0x0800) : p.etherType;
    return `${s}, ${ethertypeText(et)}, length ${wireLength}`;
  }
  if (p.sllAddrOff >= 0) {
    const dir = ['In', 'B', 'M', 'P', 'Out'][p.sllPktType] ?? `type ${p.sllPktType}`;
    const addr = p.sllAddrLen > 0 ? macText(d, p.sllAddrOff, p.sllAddrLen) : '';
    return `${p.sllIfindex >= 0 ? `ifindex ${p.sllIfindex} ` : ''}${dir} ${addr}, ${ethertypeText(p.etherType)}, length ${wireLength}`;
  }
  return `${linkTypeName(p.linkType)}, length ${wireLength}`;
}

/**
 * One line, as `tcpdump -nn` prints it (and `-e` with link): for a tunnel (VXLAN, Geneve) the
 * outer header then the inner packet on the same line. With `rel` (hopdump read without -S), TCP
 * numbers are relative to the connection's start, as tcpdump prints them without -S.
 *
 * `compact` is hopdump's own form for reports, where lines must fit 100 columns and be compared
 * across hops: no TCP options, absolute numbers, the VLAN tags in front (tcpdump shows them only
 * with -e).
 */
export function summarize(p: Decoded, wireLength: number, link = false, compact = false, rel?: TcpRelative): string {
  let s: string;
  if (p.tunnel) {
    const outer = outerText(p);
    s = `${link ? `${linkText(p, wireLength)}: ` : ''}${outer}: ${tunnelText(p, link)}: `;
    if (link && p.ethOff >= 0)
      s += `${macText(p.data, p.ethOff + 6)} > ${macText(p.data, p.ethOff)}, ${ethertypeText(p.etherType)}: `;
    return s + networkText(p, wireLength, compact, rel);
  }
  if (link) {
    const l = linkText(p, wireLength);
    // After "ethertype IPv4 (0x0800)" tcpdump -e leaves out "IP " (and "ARP, ").
    const n = p.etherType
      ? networkText(p, wireLength, compact, rel).replace(/^(IP6?|ARP,) /, '')
      : networkText(p, wireLength, compact, rel);
    if (p.vlanCount > 0 && p.ethOff >= 0) return `${l}, ${n}`;
    return `${l}: ${n}`;
  }
  if (p.vlanCount > 0 && compact)
    return `vlan ${p.vlan0}${p.vlanCount > 1 ? `, vlan ${p.vlan1}` : ''}: ${networkText(p, wireLength, compact)}`;
  return networkText(p, wireLength, compact, rel);
}

/** The tunnel header of a decoded VXLAN or Geneve packet (which one: the outer UDP port). */
function tunnelText(p: Decoded, link: boolean): string {
  const d = p.data;
  const l4 = p.outerL4Off;
  if (((d[l4 + 2]! << 8) | d[l4 + 3]!) !== GENEVE_PORT) return `VXLAN, flags [I] (0x08), vni ${p.vni}`;
  // decode() opened it: its length and captured bytes were checked there.
  return geneveText(d, l4 + 8, 1 << 16, p.end, link).text;
}

const GENEVE_FLAGS: Array<[number, string]> = [
  [0x80, 'O'],
  [0x40, 'C'],
  [0x20, 'R1'],
  [0x10, 'R2'],
  [0x08, 'R3'],
  [0x04, 'R4'],
  [0x02, 'R5'],
  [0x01, 'R6'],
];
const GENEVE_PROTOS: Record<number, string> = { 0x0800: 'IPv4', 0x86dd: 'IPv6', 0x6558: 'TEB', 0x0806: 'ARP' };

/**
 * The Geneve header as tcpdump 4.99 prints it without -v (print-geneve.c), up to the ": " before
 * the inner packet; o is the header's offset, len the UDP payload's length, end the captured end.
 * `stop`: tcpdump's line ends with the header (a bad version or length, a truncated header).
 */
function geneveText(
  d: Uint8Array,
  o: number,
  len: number,
  end: number,
  link: boolean,
): { text: string; stop: boolean } {
  if (len < 8) return { text: `Geneve [length ${len} < 8] (invalid)`, stop: true };
  if (o + 8 > end) return { text: 'Geneve [|geneve]', stop: true };
  const version = d[o]! >> 6;
  if (version !== 0) return { text: `Geneve ERROR: unknown-version ${version}`, stop: true };
  const flags = d[o + 1]!;
  const proto = (d[o + 2]! << 8) | d[o + 3]!;
  const flagText = GENEVE_FLAGS.filter(([b]) => flags & b)
    .map(([, c]) => c)
    .join('');
  let s = `Geneve, Flags [${flagText || 'none'}], vni 0x${((d[o + 4]! << 16) | (d[o + 5]! << 8) | d[o + 6]!).toString(16)}`;
  if (d[o + 7]) s += `, rsvd 0x${d[o + 7]!.toString(16)}`;
  if (link) s += `, proto ${GENEVE_PROTOS[proto] ?? 'unknown'} (0x${proto.toString(16).padStart(4, '0')})`;
  const optLen = (d[o]! & 0x3f) * 4;
  if (len - 8 < optLen) return { text: `${s} truncated-geneve - ${optLen - (len - 8)} bytes missing`, stop: true };
  if (o + 8 + optLen > end) return { text: `${s} [|geneve]`, stop: true };
  if (optLen > 0) s += `, options [${optLen} bytes]`;
  return { text: s, stop: false };
}

/** A UDP datagram to the Geneve port that decode() did not open (a bad header, another protocol inside). */
function geneveUndecoded(p: Decoded): string {
  const o = p.l4Off + 8;
  const g = geneveText(p.data, o, p.payLen, p.l4End, false);
  return g.stop ? g.text : `${g.text}: geneve-proto-0x${((p.data[o + 2]! << 8) | p.data[o + 3]!).toString(16)}`;
}

function outerText(p: Decoded): string {
  const d = p.data;
  const o = p.outerL3Off;
  const l4 = p.outerL4Off;
  const sp = (d[l4]! << 8) | d[l4 + 1]!;
  const dp = (d[l4 + 2]! << 8) | d[l4 + 3]!;
  if (p.outerL3 === L3_IPV6) return `IP6 ${ipv6Text(d, o + 8)}.${sp} > ${ipv6Text(d, o + 24)}.${dp}`;
  return `IP ${ip4Text(d, o + 12)}.${sp} > ${ip4Text(d, o + 16)}.${dp}`;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** tcpdump's default timestamp: local time of day with microseconds. */
export function timeText(sec: number, nsec: number): string {
  const dt = new Date(sec * 1000);
  return `${pad(dt.getHours(), 2)}:${pad(dt.getMinutes(), 2)}:${pad(dt.getSeconds(), 2)}.${pad(Math.floor(nsec / 1000), 6)}`;
}

/** Seconds since the epoch with nine decimals, exact. */
export function epochText(sec: number, nsec: number): string {
  return `${sec}.${pad(nsec, 9)}`;
}

/** The decoded fields as a plain object (for --json), only what the packet has. */
export function toJson(p: Decoded, wireLength: number): Record<string, unknown> {
  const d = p.data;
  const o: Record<string, unknown> = {
    linkType: linkTypeName(p.linkType),
    length: wireLength,
    caplen: p.end - p.start,
  };
  if (p.tunnel) {
    const l4 = p.outerL4Off;
    o.tunnel = {
      type: ((d[l4 + 2]! << 8) | d[l4 + 3]!) === GENEVE_PORT ? 'geneve' : 'vxlan',
      vni: p.vni,
      ...(p.outerEthOff >= 0 ? { srcMac: macText(d, p.outerEthOff + 6), dstMac: macText(d, p.outerEthOff) } : {}),
      src: p.outerL3 === L3_IPV6 ? ipv6Text(d, p.outerL3Off + 8) : ip4Text(d, p.outerL3Off + 12),
      dst: p.outerL3 === L3_IPV6 ? ipv6Text(d, p.outerL3Off + 24) : ip4Text(d, p.outerL3Off + 16),
      srcPort: (d[l4]! << 8) | d[l4 + 1]!,
      dstPort: (d[l4 + 2]! << 8) | d[l4 + 3]!,
    };
  }
  if (p.ethOff >= 0) {
    o.eth = {
      src: macText(d, p.ethOff + 6),
      dst: macText(d, p.ethOff),
      type: p.etherType,
      ...(p.vlanCount > 0 ? { vlan: p.vlanCount > 1 ? [p.vlan0, p.vlan1] : [p.vlan0] } : {}),
    };
  } else if (p.sllAddrOff >= 0) {
    o.sll = {
      packetType: p.sllPktType,
      address: macText(d, p.sllAddrOff, p.sllAddrLen),
      type: p.etherType,
      ...(p.sllIfindex >= 0 ? { ifindex: p.sllIfindex } : {}),
    };
  }
  const a = ipAddresses(p);
  if (a) {
    o.ip = {
      version: p.l3 === L3_IPV4 ? 4 : 6,
      src: a.src,
      dst: a.dst,
      ttl: p.ttl,
      proto: p.ipProto,
      length: p.ipTotalLen,
      ...(p.l3 === L3_IPV4
        ? { id: p.ipId, options: p.ipHdrLen > 20 ? p.ipHdrLen - 20 : 0 }
        : { flowLabel: p.flowLabel, extensionHeaders: p.extHeaders }),
      ...(p.fragment
        ? {
            fragment: { offset: p.fragOffset, more: p.moreFragments, ...(p.l3 === L3_IPV6 ? { id: p.ip6FragId } : {}) },
          }
        : {}),
    };
  }
  if (p.l4Off >= 0) {
    if (p.ipProto === PROTO_TCP) {
      const t = tcpOptions(p);
      o.tcp = {
        srcPort: p.srcPort,
        dstPort: p.dstPort,
        flags: tcpFlagsText(p.tcpFlags),
        seq: p.seq,
        ack: p.ack,
        window: p.window,
        payload: p.payLen,
        options: {
          ...(t.mss !== undefined ? { mss: t.mss } : {}),
          ...(t.wscale !== undefined ? { wscale: t.wscale } : {}),
          ...(t.sackOK ? { sackOK: true } : {}),
          ...(t.sack ? { sack: t.sack } : {}),
          ...(t.tsval !== undefined ? { tsval: t.tsval, tsecr: t.tsecr } : {}),
        },
      };
    } else if (p.ipProto === PROTO_UDP) {
      o.udp = { srcPort: p.srcPort, dstPort: p.dstPort, length: p.udpLen };
    } else if (p.ipProto === PROTO_ICMP || p.ipProto === PROTO_ICMP6) {
      const q = quotedText(p);
      o[p.ipProto === PROTO_ICMP ? 'icmp' : 'icmp6'] = {
        type: p.icmpType,
        code: p.icmpCode,
        ...(p.icmpId >= 0 ? { id: p.icmpId, seq: p.icmpSeq } : {}),
        ...(q ? { quoted: q } : {}),
        ...(p.ndTargetOff >= 0 && p.ndTargetOff + 16 <= p.l4End ? { target: ipv6Text(d, p.ndTargetOff) } : {}),
      };
    }
  }
  const arp = arpFields(p);
  if (arp) o.arp = arp;
  o.proto = PROTO_CLASSES[protoClass(p)];
  o.fingerprint = fingerprintHex(p.fpHi, p.fpLo);
  natFingerprint(p);
  o.natFingerprint = fingerprintHex(p.natHi, p.natLo);
  return o;
}
