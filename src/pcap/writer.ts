import { closeSync, constants, fchmodSync, openSync, writeSync } from 'node:fs';

/**
 * pcapng and classic pcap writers (little-endian), buffered, to a file
 * created 0600 (captures hold users' traffic) or to a given descriptor.
 * Options are written in one canonical order, so that reading a file this
 * writer made and writing it again gives the same bytes.
 */

export interface SectionInfo {
  comments?: string[];
  hardware?: string;
  os?: string;
  application?: string;
}

export interface InterfaceInfo {
  linkType: number;
  snaplen?: number;
  name?: string;
  description?: string;
  comments?: string[];
  /** if_tsresol byte: 6 = microseconds (the pcapng default), 9 = nanoseconds. */
  tsresol?: number;
  tsoffset?: number;
  fcslen?: number;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

class Output {
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly own: boolean,
  ) {}

  ensure(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** Reserves n bytes and returns the buffer and offset to fill. */
  take(n: number): [Buffer, number] {
    this.ensure(n);
    const at = this.used;
    this.used += n;
    return [this.buf, at];
  }

  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    if (this.own) closeSync(this.fd);
  }
}

function openPrivate(path: string): number {
  // Never through a symbolic link planted where the file will be.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  // An existing file keeps its mode on open: make it private too.
  fchmodSync(fd, 0o600);
  return fd;
}

function stringOptions(list: Array<[number, string | undefined]>): Buffer[] {
  const out: Buffer[] = [];
  for (const [code, v] of list) {
    if (v === undefined) continue;
    out.push(option(code, Buffer.from(v, 'utf8')));
  }
  return out;
}

function option(code: number, value: Buffer): Buffer {
  if (value.length > 0xffff) value = value.subarray(0, 0xffff);
  const b = Buffer.alloc(4 + value.length + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function withEnd(opts: Buffer[]): Buffer[] {
  return opts.length ? [...opts, Buffer.alloc(4)] : [];
}

export class PcapngWriter {
  private readonly out: Output;
  private interfaces = 0;
  private readonly resolution: number[] = [];

  constructor(target: string | { fd: number }) {
    this.out = typeof target === 'string' ? new Output(openPrivate(target), true) : new Output(target.fd, false);
  }

  private block(type: number, parts: Buffer[]): void {
    const bodyLen = parts.reduce((n, p) => n + p.length, 0);
    const len = 12 + bodyLen;
    const [b, at] = this.out.take(len);
    b.writeUInt32LE(type, at);
    b.writeUInt32LE(len, at + 4);
    let o = at + 8;
    for (const p of parts) {
      p.copy(b, o);
      o += p.length;
    }
    b.writeUInt32LE(len, o);
  }

  /** Starts a section: interfaces declared before it are forgotten. */
  section(info: SectionInfo = {}): void {
    const fixed = Buffer.alloc(16);
    fixed.writeUInt32LE(0x1a2b3c4d, 0);
    fixed.writeUInt16LE(1, 4);
    fixed.writeUInt16LE(0, 6);
    fixed.writeBigInt64LE(-1n, 8);
    const opts = [
      ...stringOptions((info.comments ?? []).map((c) => [1, c] as [number, string])),
      ...stringOptions([
        [2, info.hardware],
        [3, info.os],
        [4, info.application],
      ]),
    ];
    this.block(0x0a0d0d0a, [fixed, ...withEnd(opts)]);
    this.interfaces = 0;
    this.resolution.length = 0;
  }

  /** Declares an interface; returns its id for packets. */
  addInterface(info: InterfaceInfo): number {
    const fixed = Buffer.alloc(8);
    fixed.writeUInt16LE(info.linkType, 0);
    fixed.writeUInt32LE(info.snaplen ?? 262144, 4);
    const opts = [
      ...stringOptions((info.comments ?? []).map((c) => [1, c] as [number, string])),
      ...stringOptions([
        [2, info.name],
        [3, info.description],
      ]),
    ];
    if (info.tsresol !== undefined) opts.push(option(9, Buffer.from([info.tsresol])));
    if (info.fcslen !== undefined) opts.push(option(13, Buffer.from([info.fcslen])));
    if (info.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      v.writeBigInt64LE(BigInt(info.tsoffset));
      opts.push(option(14, v));
    }
    this.block(0x00000001, [fixed, ...withEnd(opts)]);
    const r = info.tsresol ?? 6;
    this.resolution.push(r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r);
    return this.interfaces++;
  }

  /** An enhanced packet block with the timestamp in the interface's raw units (high, low 32 bits). */
  packetRaw(
    ifId: number,
    tsHi: number,
    tsLo: number,
    data: Uint8Array,
    wireLength: number,
    comments: string[] = [],
    flags?: number,
  ): void {
    const fixed = Buffer.alloc(20);
    fixed.writeUInt32LE(ifId, 0);
    fixed.writeUInt32LE(tsHi >>> 0, 4);
    fixed.writeUInt32LE(tsLo >>> 0, 8);
    fixed.writeUInt32LE(data.length, 12);
    fixed.writeUInt32LE(wireLength, 16);
    const opts = stringOptions(comments.map((c) => [1, c] as [number, string]));
    if (flags !== undefined) {
      const v = Buffer.alloc(4);
      v.writeUInt32LE(flags >>> 0);
      opts.push(option(2, v));
    }
    this.block(0x00000006, [
      fixed,
      Buffer.from(data.buffer, data.byteOffset, data.length),
      Buffer.alloc(pad4(data.length)),
      ...withEnd(opts),
    ]);
  }

  /** A packet with its time in nanoseconds since the epoch (converted to the interface's resolution). */
  packet(ifId: number, tsNs: bigint, data: Uint8Array, wireLength: number, comments: string[] = []): void {
    const units = this.resolution[ifId];
    if (units === undefined) throw new Error(`pcapng writer: interface ${ifId} was not declared`);
    const t = units === 1e9 ? tsNs : (tsNs * BigInt(units)) / 1_000_000_000n;
    this.packetRaw(ifId, Number(t >> 32n), Number(t & 0xffffffffn), data, wireLength, comments);
  }

  /** Interface statistics (received and dropped by the OS), like dumpcap writes at the end. */
  interfaceStats(ifId: number, tsNs: bigint, received: bigint, dropped: bigint): void {
    const fixed = Buffer.alloc(12);
    const units = this.resolution[ifId] ?? 1e6;
    const t = (tsNs * BigInt(units)) / 1_000_000_000n;
    fixed.writeUInt32LE(ifId, 0);
    fixed.writeUInt32LE(Number(t >> 32n), 4);
    fixed.writeUInt32LE(Number(t & 0xffffffffn), 8);
    const v = (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(n);
      return b;
    };
    this.block(0x00000005, [fixed, option(4, v(received)), option(7, v(dropped)), Buffer.alloc(4)]);
  }

  close(): void {
    this.out.close();
  }
}

/** Classic pcap (little-endian, micro- or nanosecond), for generators and tools that want it. */
export class PcapWriter {
  private readonly out: Output;

  constructor(target: string | { fd: number }, linkType: number, options: { nanos?: boolean; snaplen?: number } = {}) {
    this.out = typeof target === 'string' ? new Output(openPrivate(target), true) : new Output(target.fd, false);
    const [b, at] = this.out.take(24);
    b.writeUInt32LE(options.nanos ? 0xa1b23c4d : 0xa1b2c3d4, at);
    b.writeUInt16LE(2, at + 4);
    b.writeUInt16LE(4, at + 6);
    b.writeInt32LE(0, at + 8);
    b.writeUInt32LE(0, at + 12);
    b.writeUInt32LE(options.snaplen ?? 262144, at + 16);
    b.writeUInt32LE(linkType, at + 20);
  }

  /** One record: seconds, fraction (µs or ns per the header), the bytes and the wire length. */
  packet(sec: number, frac: number, data: Uint8Array, wireLength: number, caplen = data.length): void {
    const [b, at] = this.out.take(16 + caplen);
    b.writeUInt32LE(sec >>> 0, at);
    b.writeUInt32LE(frac >>> 0, at + 4);
    b.writeUInt32LE(caplen, at + 8);
    b.writeUInt32LE(wireLength, at + 12);
    b.set(data.subarray(0, caplen), at + 16);
  }

  /** Reserves a record and returns where to write its bytes (generators fill frames in place). */
  reserve(sec: number, frac: number, caplen: number, wireLength: number): [Buffer, number] {
    const [b, at] = this.out.take(16 + caplen);
    b.writeUInt32LE(sec >>> 0, at);
    b.writeUInt32LE(frac >>> 0, at + 4);
    b.writeUInt32LE(caplen, at + 8);
    b.writeUInt32LE(wireLength, at + 12);
    return [b, at + 16];
  }

  close(): void {
    this.out.close();
  }
}
