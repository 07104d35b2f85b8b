import {
  decode,
  fastNatFingerprint,
  L3_ARP,
  L3_IPV4,
  L3_IPV6,
  LINKTYPE_ETHERNET,
  natFingerprint,
  PROTO_ICMP,
  PROTO_ICMP6,
  type Decoded,
} from '../pcap/index.js';

/** The packets `analyze` follows in full: the target's own (the rest only goes through the matcher). */

export function ipv4Number(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return -1;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/**
 * What analyze's second pass needs of every frame: its NAT-tolerant fingerprint (in d.natHi/natLo)
 * and whether it is about the target. The commonest frames from their bytes, the others through
 * decode(); either way `d` is not a decoded record of the frame afterwards (decode it to keep it).
 */
export function matchKey(
  b: Uint8Array,
  off: number,
  caplen: number,
  linkType: number,
  d: Decoded,
  t4: number,
  isV6: boolean,
): boolean {
  if (linkType === LINKTYPE_ETHERNET && fastNatFingerprint(b, off, caplen, d) >= 0)
    return aboutTargetIPv4Frame(b, off, t4, isV6);
  decode(b, off, caplen, linkType, d, false);
  natFingerprint(d);
  return aboutTarget(d, t4, isV6);
}

/**
 * The same for a frame that fastNatFingerprint() took (Ethernet, IPv4, not an ICMP error), from
 * its bytes: the addresses at 26 and 30.
 */
export function aboutTargetIPv4Frame(b: Uint8Array, start: number, t4: number, isV6: boolean): boolean {
  if (isV6) return false;
  const s = start + 26;
  const src = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!) >>> 0;
  const dst = ((b[s + 4]! << 24) | (b[s + 5]! << 16) | (b[s + 6]! << 8) | b[s + 7]!) >>> 0;
  return src === t4 || dst === t4;
}

/** Cheap test on the decoded numbers: could this packet be to, from or about the target? */
export function aboutTarget(d: Decoded, t4: number, isV6: boolean): boolean {
  const b = d.data;
  if (d.l3 === L3_IPV4) {
    if (d.ipProto === PROTO_ICMP && d.quotedOff >= 0) return true;
    if (isV6) return false;
    const o = d.l3Off;
    const src = ((b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!) >>> 0;
    const dst = ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0;
    return src === t4 || dst === t4;
  }
  if (d.l3 === L3_ARP) {
    if (isV6 || d.arpOff < 0) return false;
    const o = d.arpOff;
    const spa = ((b[o + 14]! << 24) | (b[o + 15]! << 16) | (b[o + 16]! << 8) | b[o + 17]!) >>> 0;
    const tpa = ((b[o + 24]! << 24) | (b[o + 25]! << 16) | (b[o + 26]! << 8) | b[o + 27]!) >>> 0;
    return spa === t4 || tpa === t4;
  }
  if (d.l3 === L3_IPV6) return isV6 || d.ipProto === PROTO_ICMP6;
  return false;
}
