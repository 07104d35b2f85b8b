import { isIP } from 'node:net';

/** An address as a bigint with its family, for prefix arithmetic. */
export interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

export function parseIp(text: string): ParsedIp | undefined {
  // A zone (fe80::1%eth0) names an interface, not a prefix member.
  if (text.includes('%')) return undefined;
  const family = isIP(text);
  if (family === 4) {
    const parts = text.split('.').map(Number);
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (family === 6) {
    const [head, tail]: [string, string | undefined] = text.includes('::')
      ? (text.split('::') as [string, string])
      : [text, undefined];
    const toGroups = (s: string | undefined): string[] => {
      if (!s) return [];
      const groups = s.split(':');
      const last = groups[groups.length - 1]!;
      if (last.includes('.')) {
        const v4 = parseIp(last)!.value;
        groups.splice(groups.length - 1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
      }
      return groups;
    };
    const h = toGroups(head);
    const t = toGroups(tail);
    const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
    const all: string[] = [...h, ...(fill as string[]), ...t];
    return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n) };
  }
  return undefined;
}

/** True when `address` lies in `prefix` ("192.0.2.0/24", "default", "2001:db8::/64"). */
export function prefixContains(prefix: string, address: string): { contains: boolean; length: number } {
  const addr = parseIp(address);
  if (!addr) return { contains: false, length: -1 };
  if (prefix === 'default') return { contains: true, length: 0 };
  const [net, lenText] = prefix.split('/');
  const p = parseIp(net ?? '');
  if (!p || p.family !== addr.family) return { contains: false, length: -1 };
  const bits = p.family === 4 ? 32 : 128;
  const length = lenText === undefined ? bits : Number(lenText);
  const shift = BigInt(bits - length);
  return { contains: p.value >> shift === addr.value >> shift, length };
}

export function isMac(text: string): boolean {
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text);
}

/**
 * An IPv6 address in the form iproute2 prints (RFC 5952: lower case, the
 * longest run of zero groups compressed), so that 2001:DB8:0::11 finds
 * 2001:db8::11. Anything else (IPv4, a zone, an embedded IPv4) is returned as is.
 */
export function canonicalIpv6(text: string): string {
  if (isIP(text) !== 6 || text.includes('.') || text.includes('%')) return text;
  try {
    // The WHATWG URL serializer writes IPv6 hosts in exactly this form.
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return text;
  }
}
