/** Hand-built frames for decoder and fingerprint tests (documentation addresses only). */

export const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function csum(b: Buffer, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

export function ip6(a: string): number[] {
  const [head, tail]: [string | undefined, string | undefined] = a.includes('::')
    ? [a.split('::')[0], a.split('::')[1]]
    : [a, undefined];
  const h = head ? head.split(':').filter(Boolean) : [];
  const t = tail ? tail.split(':').filter(Boolean) : [];
  const groups = [...h, ...(new Array(8 - h.length - t.length).fill('0') as string[]), ...t].map((g) =>
    parseInt(g, 16),
  );
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

export interface Ip4Opts {
  src?: string;
  dst?: string;
  ttl?: number;
  id?: number;
  proto: number;
  payload: Buffer;
  options?: number[];
  /** Fragment offset in bytes and MF. */
  fragOffset?: number;
  mf?: boolean;
}

export function ipv4(o: Ip4Opts): Buffer {
  const opts = Buffer.from(o.options ?? []);
  const hl = 20 + opts.length;
  const b = Buffer.alloc(hl + o.payload.length);
  b[0] = 0x40 | (hl / 4);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(o.id ?? 0x1234, 4);
  b.writeUInt16BE(((o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8)) & 0xffff, 6);
  b[8] = o.ttl ?? 64;
  b[9] = o.proto;
  Buffer.from(ip4(o.src ?? '192.0.2.1')).copy(b, 12);
  Buffer.from(ip4(o.dst ?? '192.0.2.2')).copy(b, 16);
  opts.copy(b, 20);
  b.writeUInt16BE(csum(b, 0, hl), 10);
  o.payload.copy(b, hl);
  return b;
}

export function ipv6(o: {
  src?: string;
  dst?: string;
  hop?: number;
  next: number;
  payload: Buffer;
  flow?: number;
  ext?: Buffer;
}): Buffer {
  const ext = o.ext ?? Buffer.alloc(0);
  const b = Buffer.alloc(40 + ext.length + o.payload.length);
  b.writeUInt32BE((6 << 28) | (o.flow ?? 0), 0);
  b.writeUInt16BE(ext.length + o.payload.length, 4);
  b[6] = o.next;
  b[7] = o.hop ?? 64;
  Buffer.from(ip6(o.src ?? '2001:db8::1')).copy(b, 8);
  Buffer.from(ip6(o.dst ?? '2001:db8::2')).copy(b, 24);
  ext.copy(b, 40);
  o.payload.copy(b, 40 + ext.length);
  return b;
}

export function tcp(o: {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  win?: number;
  options?: number[];
  payload?: Buffer;
}): Buffer {
  const opts = Buffer.from(o.options ?? []);
  const hl = 20 + opts.length;
  const payload = o.payload ?? Buffer.alloc(0);
  const b = Buffer.alloc(hl + payload.length);
  b.writeUInt16BE(o.sport ?? 40000, 0);
  b.writeUInt16BE(o.dport ?? 80, 2);
  b.writeUInt32BE(o.seq ?? 1000, 4);
  b.writeUInt32BE(o.ack ?? 0, 8);
  b[12] = (hl / 4) << 4;
  b[13] = o.flags ?? 0x02;
  b.writeUInt16BE(o.win ?? 64240, 14);
  opts.copy(b, 20);
  payload.copy(b, hl);
  return b;
}

export function udp(o: { sport?: number; dport?: number; payload?: Buffer }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt16BE(o.sport ?? 5000, 0);
  b.writeUInt16BE(o.dport ?? 53, 2);
  b.writeUInt16BE(b.length, 4);
  payload.copy(b, 8);
  return b;
}

export function icmpEcho(o: { type?: number; id?: number; seq?: number; data?: Buffer }): Buffer {
  const data = o.data ?? Buffer.from('hopdump-echo-data');
  const b = Buffer.alloc(8 + data.length);
  b[0] = o.type ?? 8;
  b.writeUInt16BE(o.id ?? 7, 4);
  b.writeUInt16BE(o.seq ?? 1, 6);
  data.copy(b, 8);
  b.writeUInt16BE(csum(b, 0, b.length), 2);
  return b;
}

export function ether(
  payload: Buffer,
  o: { type?: number; src?: number[]; dst?: number[]; vlans?: number[] } = {},
): Buffer {
  const tags = (o.vlans ?? []).flatMap((v, i, all) => [
    ...(i === 0 && all.length > 1 ? [0x88, 0xa8] : [0x81, 0x00]),
    v >> 8,
    v & 0xff,
  ]);
  return Buffer.concat([
    Buffer.from(o.dst ?? MAC_B),
    Buffer.from(o.src ?? MAC_A),
    Buffer.from(tags),
    Buffer.from([(o.type ?? 0x0800) >> 8, (o.type ?? 0x0800) & 0xff]),
    payload,
  ]);
}

export function arp(o: {
  op: number;
  senderMac?: number[];
  senderIp: string;
  targetMac?: number[];
  targetIp: string;
}): Buffer {
  return Buffer.from([
    0,
    1,
    8,
    0,
    6,
    4,
    0,
    o.op,
    ...(o.senderMac ?? MAC_A),
    ...ip4(o.senderIp),
    ...(o.targetMac ?? [0, 0, 0, 0, 0, 0]),
    ...ip4(o.targetIp),
  ]);
}

export function vxlan(inner: Buffer, vni: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h[4] = (vni >> 16) & 0xff;
  h[5] = (vni >> 8) & 0xff;
  h[6] = vni & 0xff;
  return Buffer.concat([h, inner]);
}

/** A TCP SYN with MSS, SACK permitted, timestamps, NOP, window scale (what Linux sends). */
export const SYN_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
