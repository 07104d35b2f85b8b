/** A pcapng builder for reader tests: either byte order, any block, any option. */
export class NgBuilder {
  private parts: Buffer[] = [];
  constructor(private le = true) {}

  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }
  u64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(v);
    else b.writeBigUInt64BE(v);
    return b;
  }
  opt(code: number, v: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(v.length), v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
  }
  opts(list: Array<[number, Buffer | string]>): Buffer {
    if (list.length === 0) return Buffer.alloc(0);
    return Buffer.concat([
      ...list.map(([c, v]) => this.opt(c, typeof v === 'string' ? Buffer.from(v) : v)),
      Buffer.alloc(4),
    ]);
  }
  block(type: number, body: Buffer): this {
    const len = 12 + body.length;
    this.parts.push(Buffer.concat([this.u32(type), this.u32(len), body, this.u32(len)]));
    return this;
  }
  /** A new section in byte order le (switches the builder's order). */
  shb(le: boolean, options: Array<[number, Buffer | string]> = [], major = 1): this {
    this.le = le;
    const fixed = Buffer.concat([this.u32(0x1a2b3c4d), this.u16(major), this.u16(0), this.u64(0xffffffffffffffffn)]);
    return this.block(0x0a0d0d0a, Buffer.concat([fixed, this.opts(options)]));
  }
  idb(linkType: number, options: Array<[number, Buffer | string]> = [], snaplen = 262144): this {
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), this.opts(options)]));
  }
  epb(
    iface: number,
    ts: bigint,
    data: Buffer,
    options: Array<[number, Buffer | string]> = [],
    orig = data.length,
  ): this {
    return this.block(
      6,
      Buffer.concat([
        this.u32(iface),
        this.u32(Number(ts >> 32n)),
        this.u32(Number(ts & 0xffffffffn)),
        this.u32(data.length),
        this.u32(orig),
        data,
        Buffer.alloc((4 - (data.length % 4)) % 4),
        this.opts(options),
      ]),
    );
  }
  spb(data: Buffer, orig = data.length): this {
    return this.block(3, Buffer.concat([this.u32(orig), data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
  }
  pb(iface: number, ts: bigint, data: Buffer): this {
    return this.block(
      2,
      Buffer.concat([
        this.u16(iface),
        this.u16(0),
        this.u32(Number(ts >> 32n)),
        this.u32(Number(ts & 0xffffffffn)),
        this.u32(data.length),
        this.u32(data.length),
        data,
        Buffer.alloc((4 - (data.length % 4)) % 4),
      ]),
    );
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Classic pcap in either byte order and resolution. */
export function pcapBytes(
  records: Array<{ data: Buffer; sec: number; frac: number; orig?: number }>,
  o: { le?: boolean; nanos?: boolean; linkType?: number; snaplen?: number } = {},
): Buffer {
  const le = o.le ?? true;
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const head = Buffer.concat([
    u32(o.nanos ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(2),
    u16(4),
    u32(0),
    u32(0),
    u32(o.snaplen ?? 262144),
    u32(o.linkType ?? 1),
  ]);
  return Buffer.concat([
    head,
    ...records.flatMap((r) => [u32(r.sec), u32(r.frac), u32(r.data.length), u32(r.orig ?? r.data.length), r.data]),
  ]);
}
