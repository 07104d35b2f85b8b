import type { HopPacket } from '../correlate/types.js';

/**
 * Capture streams and files into HopPackets: the live tcpdump pipes of
 * diagnose and the files `analyze` is given. Classic pcap and pcapng,
 * Ethernet (with 802.1Q/QinQ), ARP, IPv4/IPv6, TCP, UDP, ICMP/ICMPv6. Every
 * read is bounds-checked; a frame cut short is decoded as far as it goes.
 */

const LINKTYPE_ETHERNET = 1;

export async function readHopPackets(stream: NodeJS.ReadableStream, hop: number, onPacket: (p: HopPacket) => void): Promise<void> {
  const parser = new CaptureParser('capture', {
    onPacket: (_iface, tsNs, data, orig, linkType) => onPacket(decodePacket(hop, tsNs, data, orig, linkType)),
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) parser.push(chunk);
  parser.end(false);
}

export interface CaptureInterface {
  id: number;
  linkType: number;
  name?: string;
  description?: string;
}

export interface CaptureEvents {
  onInterface?: (iface: CaptureInterface) => void;
  onPacket: (iface: number, tsNs: bigint, data: Uint8Array, wireLength: number, linkType: number) => void;
}

/** A malformed or truncated capture, with the byte offset where it went wrong. */
export class CaptureFormatError extends Error {}

const MAX_BLOCK = 64 * 1024 * 1024;

/**
 * Streaming reader of classic pcap (either byte order, micro- or nanosecond)
 * and pcapng (SHB, IDB with if_name/if_description/if_tsresol/if_tsoffset,
 * EPB, SPB, obsolete PB; other blocks skipped by length). Only the straddling
 * tail of a record is carried from one chunk to the next.
 */
export class CaptureParser {
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;
  private format: 'pcap' | 'pcapng' | undefined;
  private pcap: { le: boolean; nanos: boolean; linkType: number; snaplen: number } | undefined;
  private ng: { le: boolean; ifaces: Array<{ linkType: number; unitsPerSec: bigint; tsOffset: bigint }> } | undefined;
  private headerSeen = false;

  constructor(
    private readonly what: string,
    private readonly events: CaptureEvents,
  ) {}

  private fail(at: number, message: string): never {
    throw new CaptureFormatError(`${this.what}: ${message} at byte ${this.offset + at}`);
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    if (!this.format) {
      if (this.buf.length < 4) return;
      const magic = this.buf.readUInt32LE(0);
      if (magic === 0x0a0d0d0a) this.format = 'pcapng';
      else if ([0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1].includes(magic)) this.format = 'pcap';
      else this.fail(0, `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`);
    }
    pos = this.format === 'pcap' ? this.pushPcap(pos) : this.pushPcapng(pos);
    this.offset += pos;
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(pos));
  }

  /** At the end: a partial record is an error for files, and dropped for a stopped live capture. */
  end(strict = true): void {
    if (!this.headerSeen) this.fail(0, 'empty or truncated header');
    if (strict && this.buf.length > 0) this.fail(0, `truncated record (${this.buf.length} bytes left)`);
  }

  private pushPcap(pos: number): number {
    const b = this.buf;
    if (!this.pcap) {
      if (b.length < 24) return pos;
      const magicLE = b.readUInt32LE(0);
      const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
      const nanos = magicLE === 0xa1b23c4d || magicLE === 0x4d3cb2a1;
      const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      this.pcap = { le, nanos, snaplen: u32(16), linkType: u32(20) & 0xffff };
      this.headerSeen = true;
      this.events.onInterface?.({ id: 0, linkType: this.pcap.linkType });
      pos = 24;
    }
    const h = this.pcap;
    const u32 = (o: number) => (h.le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    while (b.length - pos >= 16) {
      const incl = u32(pos + 8);
      // A record may exceed a lying snaplen, never 256 KiB + slack (libpcap's own bound).
      if (incl > 262144 + 65536) this.fail(pos, `record claims ${incl} bytes`);
      if (b.length - pos - 16 < incl) break;
      const sec = u32(pos);
      const frac = u32(pos + 4);
      const tsNs = BigInt(sec) * 1_000_000_000n + BigInt(h.nanos ? frac : frac * 1000);
      this.events.onPacket(0, tsNs, new Uint8Array(b.buffer, b.byteOffset + pos + 16, incl), u32(pos + 12), h.linkType);
      pos += 16 + incl;
    }
    return pos;
  }

  private pushPcapng(pos: number): number {
    const b = this.buf;
    while (b.length - pos >= 12) {
      const type = b.readUInt32LE(pos);
      let le = this.ng?.le ?? true;
      if (type === 0x0a0d0d0a) {
        const bom = b.readUInt32LE(pos + 8);
        if (bom === 0x1a2b3c4d) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else this.fail(pos, 'section header with a bad byte-order magic');
      } else if (!this.ng) {
        this.fail(pos, 'pcapng block before the first section header');
      }
      const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      const blockType = type === 0x0a0d0d0a ? type : u32(pos);
      const len = u32(pos + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) this.fail(pos, `block length ${len} is impossible`);
      if (b.length - pos < len) break;
      if (u32(pos + len - 4) !== len) this.fail(pos, 'block length mismatch (leading and trailing lengths differ)');
      const body = pos + 8;
      const bodyEnd = pos + len - 4;
      if (blockType === 0x0a0d0d0a) {
        this.ng = { le, ifaces: [] };
        this.headerSeen = true;
      } else if (blockType === 1) {
        if (bodyEnd - body < 8) this.fail(pos, 'interface block too short');
        const linkType = u16(body);
        const iface = { linkType, unitsPerSec: 1_000_000n, tsOffset: 0n };
        const info: CaptureInterface = { id: this.ng!.ifaces.length, linkType };
        for (const [code, start, olen] of options(b, body + 8, bodyEnd, u16)) {
          if (code === 2) info.name = b.toString('utf8', start, start + olen);
          else if (code === 3) info.description = b.toString('utf8', start, start + olen);
          else if (code === 9 && olen >= 1) {
            const r = b[start]!;
            iface.unitsPerSec = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
          } else if (code === 14 && olen >= 8) {
            iface.tsOffset = le ? b.readBigInt64LE(start) : b.readBigInt64BE(start);
          }
        }
        this.ng!.ifaces.push(iface);
        this.events.onInterface?.(info);
      } else if (blockType === 6 || blockType === 2) {
        const enhanced = blockType === 6;
        if (bodyEnd - body < 20) this.fail(pos, 'packet block too short');
        const ifId = enhanced ? u32(body) : u16(body);
        const iface = this.ng!.ifaces[ifId];
        if (!iface) this.fail(pos, `packet for undeclared interface ${ifId}`);
        const ts = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
        const cap = u32(body + 12);
        const orig = u32(body + 16);
        if (body + 20 + cap > bodyEnd) this.fail(pos, `packet length ${cap} runs past its block`);
        const tsNs = (ts * 1_000_000_000n) / iface.unitsPerSec + iface.tsOffset * 1_000_000_000n;
        this.events.onPacket(ifId, tsNs, new Uint8Array(b.buffer, b.byteOffset + body + 20, cap), orig, iface.linkType);
      } else if (blockType === 3) {
        const iface = this.ng!.ifaces[0];
        if (!iface) this.fail(pos, 'simple packet block without an interface');
        const orig = u32(body);
        const cap = Math.min(orig, bodyEnd - body - 4);
        this.events.onPacket(0, 0n, new Uint8Array(b.buffer, b.byteOffset + body + 4, cap), orig, iface.linkType);
      }
      pos += len;
    }
    return pos;
  }
}

/** pcapng options as [code, value offset, value length], bounds-checked. */
function* options(b: Buffer, from: number, to: number, u16: (o: number) => number): Generator<[number, number, number]> {
  let o = from;
  while (o + 4 <= to) {
    const code = u16(o);
    const len = u16(o + 2);
    if (code === 0) return;
    if (o + 4 + len > to) return;
    yield [code, o + 4, len];
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const macAt = (d: Uint8Array, o: number) => (o + 6 <= d.length ? Array.from(d.subarray(o, o + 6), hex2).join(':') : undefined);
const ip4At = (d: Uint8Array, o: number) => (o + 4 <= d.length ? `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}` : undefined);
function ip6At(d: Uint8Array, o: number): string | undefined {
  if (o + 16 > d.length) return undefined;
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((d[o + 2 * i]! << 8) | d[o + 2 * i + 1]!).toString(16));
  const s = g.join(':');
  const m = s.match(/(^|:)0(:0)+(:|$)/);
  return m ? s.replace(m[0], '::') : s;
}
const u16 = (d: Uint8Array, o: number) => (o + 2 <= d.length ? (d[o]! << 8) | d[o + 1]! : undefined);
const u32 = (d: Uint8Array, o: number) => (o + 4 <= d.length ? ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0 : undefined);

/** FNV-1a over a list of numbers and byte ranges, as 16 hex digits (two 32-bit lanes). */
class Fnv {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;
  num(n: number | undefined): this {
    const v = n ?? 0xffffffff;
    for (let i = 0; i < 4; i++) this.byte((v >>> (i * 8)) & 0xff);
    return this;
  }
  str(s: string | undefined): this {
    for (const ch of s ?? '-') this.byte(ch.charCodeAt(0) & 0xff);
    return this.byte(0);
  }
  bytes(d: Uint8Array, from: number, to: number): this {
    for (let i = from; i < Math.min(to, d.length); i++) this.byte(d[i]!);
    return this;
  }
  private byte(x: number): this {
    this.a = Math.imul(this.a ^ x, 0x01000193) >>> 0;
    this.b = Math.imul(this.b ^ x, 0x01000193 + 0x2e) >>> 0;
    return this;
  }
  hex(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}

const TCP_FLAGS = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
] as const;

/** Decodes one captured frame; fields it cannot reach stay undefined. */
export function decodePacket(hop: number, tsNs: bigint, data: Uint8Array, wireLength: number, linkType: number): HopPacket {
  const p: HopPacket = { hop, tsNs, fp: '', natFp: '', kind: 'other', length: wireLength, data, summary: '', linkType };
  if (linkType !== LINKTYPE_ETHERNET || data.length < 14) {
    const f = new Fnv().bytes(data, 0, 64).hex();
    p.fp = p.natFp = f;
    p.summary = `link type ${linkType}, length ${wireLength}`;
    return p;
  }
  p.dstMac = macAt(data, 0);
  p.srcMac = macAt(data, 6);
  let off = 12;
  let ethertype = u16(data, off)!;
  off += 2;
  while ((ethertype === 0x8100 || ethertype === 0x88a8) && off + 4 <= data.length) {
    p.vlan ??= u16(data, off)! & 0x0fff;
    ethertype = u16(data, off + 2)!;
    off += 4;
  }
  const fp = new Fnv();
  const nat = new Fnv();
  let text = '';
  if (ethertype === 0x0806) {
    p.kind = 'arp';
    p.arpOp = u16(data, off + 6);
    p.arpSenderMac = macAt(data, off + 8);
    p.arpSenderIp = ip4At(data, off + 14);
    p.arpTargetIp = ip4At(data, off + 24);
    const tha = macAt(data, off + 18);
    for (const h of [fp, nat]) h.str('arp').num(p.arpOp).str(p.arpSenderMac).str(p.arpSenderIp).str(tha).str(p.arpTargetIp);
    text =
      p.arpOp === 1
        ? `ARP, Request who-has ${p.arpTargetIp} tell ${p.arpSenderIp}, length 28`
        : p.arpOp === 2
          ? `ARP, Reply ${p.arpSenderIp} is-at ${p.arpSenderMac}, length 28`
          : `ARP, op ${p.arpOp}, length 28`;
  } else if (ethertype === 0x0800 && off + 20 <= data.length) {
    p.kind = 'ipv4';
    const ihl = (data[off]! & 0x0f) * 4;
    const total = u16(data, off + 2) ?? 0;
    const id = u16(data, off + 4);
    const fragField = u16(data, off + 6) ?? 0;
    p.ttl = data[off + 8];
    const proto = data[off + 9]!;
    p.src = ip4At(data, off + 12);
    p.dst = ip4At(data, off + 16);
    fp.str('ip').num(id).num(proto).str(p.src).str(p.dst).num(fragField & 0x1fff);
    nat.str('ip').num(id).num(proto).num(fragField & 0x1fff);
    const l4 = off + ihl;
    const end = Math.min(data.length, off + total);
    text = decodeL4(p, data, l4, end, proto, total - ihl, fp, nat, (fragField & 0x1fff) !== 0);
  } else if (ethertype === 0x86dd && off + 40 <= data.length) {
    p.kind = 'ipv6';
    const flow = (u32(data, off) ?? 0) & 0xfffff;
    const plen = u16(data, off + 4) ?? 0;
    const next = data[off + 6]!;
    p.ttl = data[off + 7];
    p.src = ip6At(data, off + 8);
    p.dst = ip6At(data, off + 24);
    fp.str('ip6').num(flow).num(next).str(p.src).str(p.dst);
    nat.str('ip6').num(flow).num(next);
    text = decodeL4(p, data, off + 40, Math.min(data.length, off + 40 + plen), next, plen, fp, nat, false);
  } else {
    fp.num(ethertype).bytes(data, off, off + 64);
    nat.num(ethertype).bytes(data, off, off + 64);
    text = `ethertype 0x${ethertype.toString(16).padStart(4, '0')}, length ${wireLength}`;
  }
  p.fp = fp.hex();
  p.natFp = nat.hex();
  p.summary = `${p.srcMac} > ${p.dstMac}${p.vlan !== undefined ? `, vlan ${p.vlan}` : ''}, ${text}`;
  return p;
}

function decodeL4(
  p: HopPacket,
  d: Uint8Array,
  l4: number,
  end: number,
  proto: number,
  l4len: number,
  fp: Fnv,
  nat: Fnv,
  fragment: boolean,
): string {
  const ipText = p.kind === 'ipv6' ? 'IP6' : 'IP';
  if (fragment) {
    p.proto = 'other';
    return `${ipText} ${p.src} > ${p.dst}: fragment, proto ${proto}`;
  }
  if (proto === 6 && l4 + 20 <= end) {
    p.proto = 'tcp';
    p.srcPort = u16(d, l4);
    p.dstPort = u16(d, l4 + 2);
    const seq = u32(d, l4 + 4);
    const ack = u32(d, l4 + 8);
    const doff = ((d[l4 + 12]! >> 4) & 0xf) * 4;
    const flags = d[l4 + 13]!;
    const win = u16(d, l4 + 14);
    let f = TCP_FLAGS.filter(([bit]) => flags & bit).map(([, c]) => c).join('');
    if (flags & 0x10) f += '.';
    p.tcpFlags = f;
    const payload = l4 + doff;
    fp.num(p.srcPort).num(p.dstPort).num(seq).num(ack).num(flags).bytes(d, payload, payload + 16);
    nat.num(seq).num(ack).num(flags).bytes(d, payload, payload + 16);
    const len = Math.max(0, l4len - doff);
    return `${ipText} ${p.src}.${p.srcPort} > ${p.dst}.${p.dstPort}: Flags [${f}], seq ${seq}${flags & 0x10 ? `, ack ${ack}` : ''}, win ${win}, length ${len}`;
  }
  if (proto === 17 && l4 + 8 <= end) {
    p.proto = 'udp';
    p.srcPort = u16(d, l4);
    p.dstPort = u16(d, l4 + 2);
    const len = u16(d, l4 + 4) ?? 0;
    fp.num(p.srcPort).num(p.dstPort).num(len).bytes(d, l4 + 8, l4 + 24);
    nat.num(len).bytes(d, l4 + 8, l4 + 24);
    return `${ipText} ${p.src}.${p.srcPort} > ${p.dst}.${p.dstPort}: UDP, length ${Math.max(0, len - 8)}`;
  }
  if ((proto === 1 || proto === 58) && l4 + 4 <= end) {
    p.proto = proto === 1 ? 'icmp' : 'icmp6';
    p.icmpType = d[l4];
    p.icmpCode = d[l4 + 1];
    const echo = proto === 1 ? p.icmpType === 8 || p.icmpType === 0 : p.icmpType === 128 || p.icmpType === 129;
    const id = echo ? u16(d, l4 + 4) : undefined;
    const seq = echo ? u16(d, l4 + 6) : undefined;
    fp.num(p.icmpType).num(p.icmpCode).num(id).num(seq).bytes(d, l4 + 8, l4 + 24);
    nat.num(p.icmpType).num(p.icmpCode).num(id).num(seq).bytes(d, l4 + 8, l4 + 24);
    const isError = proto === 1 ? [3, 4, 5, 11, 12].includes(p.icmpType!) : p.icmpType! < 128;
    if (isError) {
      const inner = l4 + 8;
      if (proto === 1 && inner + 20 <= end) {
        const ihl = (d[inner]! & 0x0f) * 4;
        const iproto = d[inner + 9]!;
        p.quoted = {
          src: ip4At(d, inner + 12),
          dst: ip4At(d, inner + 16),
          proto: iproto === 6 ? 'tcp' : iproto === 17 ? 'udp' : iproto === 1 ? 'icmp' : String(iproto),
          ...(iproto === 6 || iproto === 17 ? { srcPort: u16(d, inner + ihl), dstPort: u16(d, inner + ihl + 2) } : {}),
        };
      } else if (proto === 58 && inner + 40 <= end) {
        p.quoted = { src: ip6At(d, inner + 8), dst: ip6At(d, inner + 24), proto: String(d[inner + 6]) };
      }
    }
    const names: Record<number, string> = proto === 1
      ? { 0: 'echo reply', 8: 'echo request', 3: 'unreachable', 11: 'time exceeded' }
      : { 128: 'echo request', 129: 'echo reply', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 1: 'unreachable', 2: 'packet too big' };
    const what = names[p.icmpType!] ?? `type ${p.icmpType}`;
    const extra = echo ? `, id ${id}, seq ${seq}` : p.quoted ? ` (code ${p.icmpCode}) about ${p.quoted.src} > ${p.quoted.dst} ${p.quoted.proto}` : '';
    return `${ipText} ${p.src} > ${p.dst}: ${proto === 1 ? 'ICMP' : 'ICMP6'} ${what}${extra}, length ${l4len}`;
  }
  p.proto = 'other';
  fp.bytes(d, l4, l4 + 16);
  nat.bytes(d, l4, l4 + 16);
  return `${ipText} ${p.src} > ${p.dst}: proto ${proto}, length ${l4len}`;
}
