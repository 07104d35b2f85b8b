import { fingerprintHex, natFingerprint } from './fingerprint.js';
import {
  Decoded,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  L3_OTHER,
  PROTO_CLASSES,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  protoClass,
} from './decoded.js';
import { linkTypeName } from './linktypes.js';
import { ipv6Text } from './reader.js';

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

const TCP_FLAG_CHARS: Array<[number, string]> = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

/** TCP flags as tcpdump prints them inside "Flags [...]": "S", "S.", "P.", "R.", "F." ... */
export function tcpFlagsText(flags: number): string {
  let s = '';
  for (const [bit, c] of TCP_FLAG_CHARS) if (flags & bit) s += c;
  if (flags & 0x10) s += '.';
  return s === '' ? 'none' : s;
}

export interface TcpOptions {
  mss?: number;
  wscale?: number;
  sackOK?: boolean;
  sack?: Array<[number, number]>;
  tsval?: number;
  tsecr?: number;
  text: string[];
}

/** TCP options (MSS, window scale, SACK permitted, SACK blocks, timestamps), bounds-checked. */
export function tcpOptions(p: Decoded): TcpOptions {
  const out: TcpOptions = { text: [] };
  if (p.l4Off < 0 || p.ipProto !== PROTO_TCP) return out;
  const d = p.data;
  const end = Math.min(p.l4End, p.l4Off + p.tcpHdrLen);
  let o = p.l4Off + 20;
  const u32 = (x: number) => ((d[x]! << 24) | (d[x + 1]! << 16) | (d[x + 2]! << 8) | d[x + 3]!) >>> 0;
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0) {
      out.text.push('eol');
      break;
    }
    if (kind === 1) {
      out.text.push('nop');
      o++;
      continue;
    }
    if (o + 1 >= end) break;
    const len = d[o + 1]!;
    if (len < 2 || o + len > end) {
      out.text.push('bad opt');
      break;
    }
    if (kind === 2 && len === 4) {
      out.mss = (d[o + 2]! << 8) | d[o + 3]!;
      out.text.push(`mss ${out.mss}`);
    } else if (kind === 3 && len === 3) {
      out.wscale = d[o + 2]!;
      out.text.push(`wscale ${out.wscale}`);
    } else if (kind === 4 && len === 2) {
      out.sackOK = true;
      out.text.push('sackOK');
    } else if (kind === 5 && (len - 2) % 8 === 0) {
      out.sack = [];
      for (let i = o + 2; i + 8 <= o + len; i += 8) out.sack.push([u32(i), u32(i + 4)]);
      out.text.push(`sack ${out.sack.length} ${out.sack.map(([a, b]) => `{${a}:${b}}`).join('')}`);
    } else if (kind === 8 && len === 10) {
      out.tsval = u32(o + 2);
      out.tsecr = u32(o + 6);
      out.text.push(`TS val ${out.tsval} ecr ${out.tsecr}`);
    } else {
      out.text.push(`unknown-${kind}`);
    }
    o += len;
  }
  return out;
}

const ICMP4_NAMES: Record<number, string> = {
  0: 'echo reply',
  8: 'echo request',
  3: 'unreachable',
  11: 'time exceeded in-transit',
  5: 'redirect',
  12: 'parameter problem',
  13: 'time stamp request',
  14: 'time stamp reply',
};
const UNREACH4: Record<number, string> = {
  0: 'net',
  1: 'host',
  2: 'protocol',
  3: 'port',
  4: 'need to frag',
  9: 'net prohibited',
  10: 'host prohibited',
  13: 'admin prohibited',
};
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

function l4Text(p: Decoded, src: string, dst: string, compact = false): string {
  const ip = p.l3 === L3_IPV6 ? 'IP6' : 'IP';
  // As tcpdump -nn prints them: IPv6 fragments as "frag (offset|length)", IPv4 later
  // fragments as their protocol only; "HBH" for a hop-by-hop options header.
  const v6frag = p.fragment && p.l3 === L3_IPV6 ? ` frag (${p.fragOffset}|${p.l4Len})` : '';
  const frag = `${p.hopByHop ? ' HBH' : ''}${v6frag}`;
  if (p.l4Off < 0) {
    if (p.fragment && p.fragOffset > 0)
      return p.l3 === L3_IPV6 ? `${ip} ${src} > ${dst}:${frag}` : `${ip} ${src} > ${dst}: ip-proto-${p.ipProto}`;
    return `${ip} ${src} > ${dst}:${frag} ip-proto-${p.ipProto} ${p.l4Len}`;
  }
  switch (p.ipProto) {
    case PROTO_TCP: {
      const f = p.tcpFlags;
      const opts = compact ? { text: [] } : tcpOptions(p);
      const seq = p.payLen > 0 ? `${p.seq}:${(p.seq + p.payLen) >>> 0}` : String(p.seq);
      return (
        `${ip} ${src}.${p.srcPort} > ${dst}.${p.dstPort}:${frag} Flags [${tcpFlagsText(f)}], seq ${seq}` +
        `${f & 0x10 ? `, ack ${p.ack}` : ''}, win ${p.window}${opts.text.length ? `, options [${opts.text.join(',')}]` : ''}, length ${p.payLen}`
      );
    }
    case PROTO_UDP:
      return `${ip} ${src}.${p.srcPort} > ${dst}.${p.dstPort}:${frag} UDP, length ${Math.max(0, p.udpLen - 8)}`;
    case PROTO_ICMP: {
      const name = ICMP4_NAMES[p.icmpType] ?? `type ${p.icmpType}`;
      if (p.icmpId >= 0)
        return `${ip} ${src} > ${dst}:${frag} ICMP ${name}, id ${p.icmpId}, seq ${p.icmpSeq}, length ${p.l4Len}`;
      if (p.icmpType === 3) {
        const q = quotedText(p);
        return `${ip} ${src} > ${dst}: ICMP ${q ? q.split(':')[0]!.split(' > ')[1] : dst} ${UNREACH4[p.icmpCode] ?? `code ${p.icmpCode}`} unreachable, length ${p.l4Len}`;
      }
      const q = quotedText(p);
      return `${ip} ${src} > ${dst}: ICMP ${name}${q ? ` (${q})` : ''}, length ${p.l4Len}`;
    }
    case PROTO_ICMP6: {
      const name = ICMP6_NAMES[p.icmpType] ?? `type ${p.icmpType}`;
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
export function networkText(p: Decoded, wireLength: number, compact = false): string {
  if (p.l3 === L3_IPV4 || p.l3 === L3_IPV6) {
    const a = ipAddresses(p)!;
    return l4Text(p, a.src, a.dst, compact);
  }
  if (p.l3 === L3_ARP) {
    const a = arpFields(p);
    // tcpdump's length: the frame after the link-layer header (padding included).
    const len = wireLength - (p.l3Off - p.start);
    if (!a) return `ARP, truncated, length ${len}`;
    if (a.op === 1) return `ARP, Request who-has ${a.targetIp} tell ${a.senderIp}, length ${len}`;
    if (a.op === 2) return `ARP, Reply ${a.senderIp} is-at ${a.senderMac}, length ${len}`;
    return `ARP, op ${a.op}, length ${len}`;
  }
  if (p.l3 === L3_OTHER && p.etherType) return `${ethertypeText(p.etherType)}, length ${wireLength}`;
  return `${linkTypeName(p.linkType)}, length ${wireLength}`;
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
    return `${s}, ${ethertypeText(p.tunnel ? 0x0800 : p.etherType)}, length ${wireLength}`;
  }
  if (p.sllAddrOff >= 0) {
    const dir = ['In', 'B', 'M', 'P', 'Out'][p.sllPktType] ?? `type ${p.sllPktType}`;
    const addr = p.sllAddrLen > 0 ? macText(d, p.sllAddrOff, p.sllAddrLen) : '';
    return `${p.sllIfindex >= 0 ? `ifindex ${p.sllIfindex} ` : ''}${dir} ${addr}, ${ethertypeText(p.etherType)}, length ${wireLength}`;
  }
  return `${linkTypeName(p.linkType)}, length ${wireLength}`;
}

/**
 * One line, close to `tcpdump -nn` (and `-e` with link): for VXLAN the outer
 * header then the inner packet, like tcpdump's two lines on one. `compact`
 * leaves out TCP options (reports, where lines must fit 100 columns).
 */
export function summarize(p: Decoded, wireLength: number, link = false, compact = false): string {
  let s: string;
  if (p.tunnel) {
    const outer = outerText(p);
    s = `${link ? `${linkText(p, wireLength)}: ` : ''}${outer}: VXLAN, flags [I] (0x08), vni ${p.vni}: `;
    if (link && p.ethOff >= 0)
      s += `${macText(p.data, p.ethOff + 6)} > ${macText(p.data, p.ethOff)}, ${ethertypeText(p.etherType)}: `;
    return s + networkText(p, wireLength, compact);
  }
  if (link) {
    const l = linkText(p, wireLength);
    // After "ethertype IPv4 (0x0800)" tcpdump -e leaves out "IP " (and "ARP, ").
    const n = p.etherType
      ? networkText(p, wireLength, compact).replace(/^(IP6?|ARP,) /, '')
      : networkText(p, wireLength, compact);
    if (p.vlanCount > 0 && p.ethOff >= 0) return `${l}, ${n}`;
    return `${l}: ${n}`;
  }
  if (p.vlanCount > 0)
    return `vlan ${p.vlan0}${p.vlanCount > 1 ? `, vlan ${p.vlan1}` : ''}: ${networkText(p, wireLength, compact)}`;
  return networkText(p, wireLength, compact);
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
      type: 'vxlan',
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
