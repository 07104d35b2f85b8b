import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The capture reader: classic pcap (either byte order, micro- or nanosecond)
 * and pcapng (several sections, either byte order, per-interface link type
 * and timestamp resolution), from a file (synchronous, one reused buffer) or
 * from a stream (chunks fed as they arrive).
 *
 * It is a cursor, not an event emitter: `next()` fills the public view fields
 * below with the next packet and returns true. Nothing is allocated per
 * packet: `buf`/`dataOff`/`caplen` point into the reader's own buffer and
 * stay valid only until the following `next()`; a consumer copies what it
 * keeps. Only a record straddling two chunks is copied (into a scratch
 * buffer of that record's size), never the stream.
 *
 * Malformed input throws PcapFormatError naming the byte offset; nothing a
 * file says can make the reader allocate more than MAX_RECORD bytes.
 */

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_NRB = 0x00000004;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BLOCK_DSB = 0x0000000a;

/** libpcap's own bound on one record is 256 KiB; pcapng blocks (NRB, DSB) may be larger. */
export const MAX_PACKET = 262144 + 65536;
export const MAX_RECORD = 16 * 1024 * 1024;

/**
 * 0 as a double (-0 is no small integer): a field that will hold numbers beyond 2³¹ (offsets past
 * 2 GiB, unsigned 32-bit words, byte totals) starts as one, so V8 gives it a double representation
 * at once. Started as a small integer, the first large value changes the object's shape and throws
 * away the optimized code of every function that uses it, mid-file (docs/pcap.md).
 */
const DOUBLE_ZERO = -0;

export class PcapFormatError extends Error {
  constructor(
    readonly source: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${source}: ${reason} at byte ${offset}`);
    this.name = 'PcapFormatError';
  }
}

export interface PcapInterface {
  /** Index within its section (what EPBs refer to). */
  id: number;
  section: number;
  linkType: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** The raw if_tsresol byte when the file gave one. */
  tsresol?: number;
  /** if_tsoffset, seconds. */
  tsoffset?: number;
  /** if_fcslen: bytes of frame check sequence at the end of each frame. */
  fcslen?: number;
  comments: string[];
  /** Timestamp units per second (1e6 unless if_tsresol says otherwise). */
  unitsPerSec: number;
  /** From the last interface statistics block, when any. */
  stats?: { received?: bigint; dropped?: bigint; ifDrop?: bigint; osDrop?: bigint; delivered?: bigint };
}

export interface PcapSection {
  index: number;
  littleEndian: boolean;
  major: number;
  minor: number;
  comments: string[];
  hardware?: string;
  os?: string;
  application?: string;
}

const STATE_MAGIC = 0;
const STATE_PCAP = 1;
const STATE_NG = 2;

/** What one step of the parser found. */
const NEED = -1;
const SKIPPED = 0;
const PACKET = 1;

/**
 * What a reader knows at a record boundary of a file (the header, the section and its interfaces):
 * enough for another reader, on another thread, to resume parsing there (see split.ts).
 */
export interface ReaderState {
  format: 'pcap' | 'pcapng';
  state: number;
  le: boolean;
  nanos: boolean;
  linkType: number;
  pcapHeader: PcapReader['pcapHeader'];
  sections: PcapSection[];
  interfaces: PcapInterface[];
}

export interface ReaderOptions {
  /** Bytes read per system call from a file (default 1 MiB). */
  chunkSize?: number;
  /** Keep at most this many NRB names (default 65536). */
  maxNames?: number;
}

export class PcapReader {
  // --- the current packet (valid until the next call to next()) -----------
  /** Buffer holding the current packet's bytes. */
  buf: Buffer = Buffer.alloc(0);
  /** A view over `buf` for the inline path of next(), made again when `buf` changes. */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewBuf: Buffer | null = null;
  dataOff = 0;
  caplen = 0;
  /** Length on the wire. */
  origLen = 0;
  /** Interface id within its section (0 for classic pcap). */
  ifId = 0;
  linkType = 0;
  /** Timestamp: whole seconds since the epoch and nanoseconds within it. */
  tsSec = DOUBLE_ZERO;
  tsNsec = 0;
  /** Raw timestamp as stored: pcap sec/frac, pcapng high/low 32 bits in the interface's units. */
  tsHi = DOUBLE_ZERO;
  tsLo = DOUBLE_ZERO;
  /** Block type of the current packet (EPB, SPB, PB) or 0 for classic pcap. */
  blockType = 0;
  /** EPB/PB options of the current packet: [optOff, optEnd) in buf. */
  optOff = 0;
  optEnd = 0;
  /** Stream offset of the current record. */
  recordOffset = DOUBLE_ZERO;
  /** Packets returned so far. */
  packets = 0;
  /** next() returns false (no error) at the first record that starts at or after this file offset. */
  stopAt = Infinity;
  /** Section headers and interface blocks parsed so far (what a resumed reader must not have missed). */
  stateBlocks = 0;

  // --- what the file declared ------------------------------------------------
  format: 'pcap' | 'pcapng' | undefined;
  /** Classic pcap header fields. */
  pcapHeader:
    | { littleEndian: boolean; nanos: boolean; major: number; minor: number; snaplen: number; linkType: number }
    | undefined;
  sections: PcapSection[] = [];
  /** Interfaces of the current section. */
  interfaces: PcapInterface[] = [];
  /** Every interface of every section, in order of declaration. */
  allInterfaces: PcapInterface[] = [];
  /** Name resolution records: address (text) → names. */
  names = new Map<string, string[]>();
  decryptionSecrets = 0;
  skippedBlocks = 0;
  /** Called when an interface is declared (pcapng IDB, or the pcap header). */
  onInterface: ((iface: PcapInterface) => void) | undefined;

  // --- buffer state -------------------------------------------------------------
  private pos = 0;
  private lim = 0;
  /** Stream offset of buf[0]. */
  private base = DOUBLE_ZERO;
  private need = 4;
  private state = STATE_MAGIC;
  private le = true;
  private nanos = false;
  private fd = -1;
  /** pcapng timestamps: hi·2³² / units for the last (hi, units), as quotient and remainder. */
  private tsBaseHi = -1;
  private tsBaseUnits = 0;
  private tsBaseQ = DOUBLE_ZERO;
  private tsBaseR = DOUBLE_ZERO;
  /**
   * Offset of the next read() for a file read with positional reads; negative: the descriptor's
   * own position (a pipe). -1.5, not -1: a double from the start (see DOUBLE_ZERO).
   */
  private filePos = -1.5;
  private eof = false;
  private pending: Buffer | null = null;
  private pendingOff = 0;
  private readonly chunkSize: number;
  private readonly maxNames: number;
  private ownBuf: Buffer | null = null;

  constructor(
    readonly source: string,
    options: ReaderOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 1 << 20;
    this.maxNames = options.maxNames ?? 65536;
  }

  /** A reader that pulls from a file descriptor or path with synchronous reads. */
  static openFile(path: string, options: ReaderOptions = {}): PcapReader {
    const r = new PcapReader(path, options);
    r.fd = openSync(path, 'r');
    r.filePos = 0;
    r.ownBuf = Buffer.allocUnsafe(r.chunkSize);
    r.buf = r.ownBuf;
    return r;
  }

  /** The state at the current record boundary (after a packet or before the next record). */
  snapshot(): ReaderState {
    if (this.format === undefined || this.state === STATE_MAGIC)
      throw new Error('PcapReader.snapshot: no header read yet');
    return {
      format: this.format,
      state: this.state,
      le: this.le,
      nanos: this.nanos,
      linkType: this.linkType,
      pcapHeader: this.pcapHeader,
      sections: [...this.sections],
      interfaces: [...this.interfaces],
    };
  }

  /** A file reader that starts at `offset`, a record boundary, in the given state (another reader's snapshot). */
  static resumeFile(path: string, offset: number, st: ReaderState, options: ReaderOptions = {}): PcapReader {
    const r = PcapReader.openFile(path, options);
    r.filePos = offset;
    r.base = offset;
    r.format = st.format;
    r.state = st.state;
    r.le = st.le;
    r.nanos = st.nanos;
    r.linkType = st.linkType;
    r.pcapHeader = st.pcapHeader;
    r.sections = [...st.sections];
    r.interfaces = [...st.interfaces];
    r.allInterfaces = [...st.interfaces];
    return r;
  }

  static fromFd(fd: number, source: string, options: ReaderOptions = {}): PcapReader {
    const r = new PcapReader(source, options);
    r.fd = fd;
    r.ownBuf = Buffer.allocUnsafe(r.chunkSize);
    r.buf = r.ownBuf;
    return r;
  }

  close(): void {
    if (this.fd > 0) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = -1;
    }
  }

  /** Stream mode: hand the next chunk over; call next() until it returns false before feeding again. */
  feed(chunk: Buffer): void {
    if (this.pending) throw new Error('PcapReader.feed: previous chunk not consumed');
    if (chunk.length === 0) return;
    this.pending = chunk;
    this.pendingOff = 0;
  }

  /** Stream mode: no more chunks will come. */
  finish(): void {
    this.eof = true;
  }

  /** True once every byte has been parsed and no more will come. */
  get done(): boolean {
    return this.eof && this.pending === null && this.pos >= this.lim;
  }

  /** Bytes parsed so far (the stream offset of the next record). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes of an incomplete record held at the end (for a stopped live capture). */
  get leftover(): number {
    return this.lim - this.pos + (this.pending ? this.pending.length - this.pendingOff : 0);
  }

  /** Timestamp of the current packet as nanoseconds since the epoch. */
  tsNs(): bigint {
    return BigInt(this.tsSec) * 1_000_000_000n + BigInt(this.tsNsec);
  }

  /** The current packet's bytes (a view; copy to keep). */
  data(): Buffer {
    return this.buf.subarray(this.dataOff, this.dataOff + this.caplen);
  }

  /** The current packet's opt_comment values (EPB/PB only). */
  comments(): string[] {
    const out: string[] = [];
    for (const [code, start, len] of this.options(this.buf, this.optOff, this.optEnd)) {
      if (code === 1) out.push(this.buf.toString('utf8', start, start + len));
    }
    return out;
  }

  /** epb_flags (direction, reception type) when present. */
  flags(): number | undefined {
    for (const [code, start, len] of this.options(this.buf, this.optOff, this.optEnd)) {
      if (code === 2 && len === 4) return this.u32(this.buf, start);
    }
    return undefined;
  }

  /**
   * Advances to the next packet. Returns false when the data fed so far is
   * used up (stream mode: feed more, or check `done`) or at the end of a file.
   * A partial record at the end of a file throws (truncated); in stream mode
   * call `end(strict)` to decide.
   */
  next(): boolean {
    // The common case first, inline: a whole little-endian classic record in the buffer.
    if (this.state === STATE_PCAP && this.le) {
      const b = this.buf;
      const pos = this.pos;
      const lim = this.lim;
      if (pos + 16 <= lim && this.base + pos < this.stopAt) {
        // A DataView reads each field in one load (byte arithmetic took a third of next()).
        const v = this.viewOf(b);
        const incl = v.getUint32(pos + 8, true);
        if (incl <= MAX_PACKET && pos + 16 + incl <= lim) {
          const frac = v.getUint32(pos + 4, true);
          this.tsSec = this.tsHi = v.getUint32(pos, true);
          this.tsLo = frac;
          this.tsNsec = this.nanos ? frac : frac * 1000;
          this.caplen = incl;
          this.origLen = v.getUint32(pos + 12, true);
          this.dataOff = pos + 16;
          this.recordOffset = this.base + pos;
          this.pos = pos + 16 + incl;
          this.packets++;
          return true;
        }
      }
    }
    // Likewise a whole little-endian enhanced packet block (what pcapng writers write).
    if (this.state === STATE_NG && this.le && this.sections.length > 0) {
      const b = this.buf;
      const pos = this.pos;
      const lim = this.lim;
      const v = this.viewOf(b);
      if (pos + 32 <= lim && this.base + pos < this.stopAt && v.getUint32(pos, true) === 6) {
        const len = v.getUint32(pos + 4, true);
        const e = pos + len - 4;
        if (len >= 32 && (len & 3) === 0 && len <= MAX_RECORD && pos + len <= lim && v.getUint32(e, true) === len) {
          const iface = this.interfaces[v.getUint32(pos + 8, true)];
          const cap = v.getUint32(pos + 20, true);
          if (iface && cap <= len - 32) {
            const orig = v.getUint32(pos + 24, true);
            this.pos = pos + len;
            this.fillPacket(b, iface, pos + 12, pos + 28, cap, orig, e, pos, BLOCK_EPB);
            this.packets++;
            return true;
          }
        }
      }
    }
    for (;;) {
      if (this.base + this.pos >= this.stopAt) return false;
      const r = this.step();
      if (r === PACKET) {
        this.packets++;
        return true;
      }
      if (r === SKIPPED) continue;
      if (!this.more()) {
        if (this.fd >= 0 && this.eof && this.pos < this.lim) this.truncated();
        return false;
      }
    }
  }

  /** Stream mode, after the last chunk: a partial record is an error when strict. */
  end(strict = true): void {
    this.eof = true;
    if (this.state === STATE_MAGIC || (this.state === STATE_PCAP && !this.pcapHeader)) {
      this.fail(
        this.base + this.pos,
        this.lim - this.pos === 0 && this.base + this.pos === 0 ? 'empty file' : 'truncated file header',
      );
    }
    if (strict && this.leftover > 0) this.truncated();
  }

  private truncated(): never {
    const have = this.leftover;
    const what =
      this.need > 0 && this.need < Number.MAX_SAFE_INTEGER ? ` (${have} of ${this.need} bytes)` : ` (${have} bytes)`;
    if (this.state === STATE_MAGIC || (this.state === STATE_PCAP && !this.pcapHeader))
      this.fail(this.base + this.pos, 'truncated file header');
    this.fail(this.base + this.pos, `truncated record${what}`);
  }

  private fail(at: number, reason: string): never {
    throw new PcapFormatError(this.source, at, reason);
  }

  /** Makes more bytes available at pos; false when none can be had now. */
  private more(): boolean {
    if (this.fd >= 0) {
      if (this.eof) return false;
      const own = this.ownBuf!;
      const tail = this.lim - this.pos;
      let target = own;
      if (this.need > own.length) {
        // One record larger than the buffer: grow to fit it (bounded by MAX_RECORD).
        target = Buffer.allocUnsafe(Math.max(this.need, own.length * 2));
        this.ownBuf = target;
      }
      if (tail > 0) this.buf.copy(target, 0, this.pos, this.lim);
      this.base += this.pos;
      this.buf = target;
      this.pos = 0;
      this.lim = tail;
      let got = 0;
      while (this.lim < target.length) {
        const n = readSync(this.fd, target, this.lim, target.length - this.lim, this.filePos < 0 ? null : this.filePos);
        if (n === 0) {
          this.eof = true;
          break;
        }
        if (this.filePos >= 0) this.filePos += n;
        this.lim += n;
        got += n;
        if (this.lim - this.pos >= this.need) break;
      }
      return got > 0;
    }
    const p = this.pending;
    if (!p) return false;
    if (this.pos >= this.lim) {
      // Nothing carried: parse the chunk in place.
      this.base = this.base + this.lim - this.pendingOff;
      this.buf = p;
      this.pos = this.pendingOff;
      this.lim = p.length;
      this.pending = null;
      return true;
    }
    // A record straddles: copy its start and just enough of the chunk to complete it.
    const tail = this.lim - this.pos;
    const want = Math.max(this.need - tail, 1);
    const take = Math.min(want, p.length - this.pendingOff);
    const scratch = Buffer.allocUnsafe(tail + take);
    this.buf.copy(scratch, 0, this.pos, this.lim);
    p.copy(scratch, tail, this.pendingOff, this.pendingOff + take);
    this.base += this.pos;
    this.buf = scratch;
    this.pos = 0;
    this.lim = tail + take;
    this.pendingOff += take;
    if (this.pendingOff >= p.length) this.pending = null;
    else {
      // Keep base consistent when we later switch to the rest of the chunk:
      // the stream offset of p[pendingOff] is base + end.
    }
    return true;
  }

  /** A DataView over `b` (the reader's buffer: made again only when the buffer changes). */
  private viewOf(b: Buffer): DataView {
    if (this.viewBuf !== b) {
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.viewBuf = b;
    }
    return this.view;
  }

  private u32(b: Buffer, o: number): number {
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private u16(b: Buffer, o: number): number {
    return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  /** Parses one record at pos: a packet (view filled), another block, or NEED (this.need set). */
  private step(): number {
    const b = this.buf;
    const pos = this.pos;
    const avail = this.lim - pos;
    if (this.state === STATE_PCAP) {
      if (avail < 16) {
        this.need = 16;
        return NEED;
      }
      const le = this.le;
      // Byte arithmetic rather than Buffer.readUInt32*: this is the per-packet path.
      const incl = le
        ? (b[pos + 8]! | (b[pos + 9]! << 8) | (b[pos + 10]! << 16) | (b[pos + 11]! << 24)) >>> 0
        : ((b[pos + 8]! << 24) | (b[pos + 9]! << 16) | (b[pos + 10]! << 8) | b[pos + 11]!) >>> 0;
      if (incl > MAX_PACKET)
        this.fail(this.base + pos, `record claims ${incl} captured bytes (more than ${MAX_PACKET})`);
      if (avail < 16 + incl) {
        this.need = 16 + incl;
        return NEED;
      }
      const sec = le
        ? (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0
        : ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
      const frac = le
        ? (b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0
        : ((b[pos + 4]! << 24) | (b[pos + 5]! << 16) | (b[pos + 6]! << 8) | b[pos + 7]!) >>> 0;
      this.tsHi = sec;
      this.tsLo = frac;
      this.tsSec = sec;
      this.tsNsec = this.nanos ? frac : frac * 1000;
      this.caplen = incl;
      this.origLen = le
        ? (b[pos + 12]! | (b[pos + 13]! << 8) | (b[pos + 14]! << 16) | (b[pos + 15]! << 24)) >>> 0
        : ((b[pos + 12]! << 24) | (b[pos + 13]! << 16) | (b[pos + 14]! << 8) | b[pos + 15]!) >>> 0;
      this.dataOff = pos + 16;
      this.recordOffset = this.base + pos;
      this.pos = pos + 16 + incl;
      return PACKET;
    }
    if (this.state === STATE_NG) return this.stepNg(b, pos, avail);
    return this.stepMagic(b, pos, avail);
  }

  private stepMagic(b: Buffer, pos: number, avail: number): number {
    if (avail < 4) {
      this.need = 4;
      return NEED;
    }
    const magic = b.readUInt32LE(pos);
    if (magic === PCAPNG_SHB) {
      this.format = 'pcapng';
      this.state = STATE_NG;
      return SKIPPED;
    }
    let le: boolean;
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) le = true;
    else if (b.readUInt32BE(pos) === PCAP_MAGIC_US || b.readUInt32BE(pos) === PCAP_MAGIC_NS) le = false;
    else {
      this.fail(
        this.base + pos,
        `not a pcap or pcapng file (magic 0x${b.readUInt32BE(pos).toString(16).padStart(8, '0')})`,
      );
    }
    if (avail < 24) {
      this.need = 24;
      return NEED;
    }
    this.le = le;
    this.format = 'pcap';
    const m = le ? b.readUInt32LE(pos) : b.readUInt32BE(pos);
    this.nanos = m === PCAP_MAGIC_NS;
    const snaplen = this.u32(b, pos + 16);
    // The link type is the low 16 bits; the upper bits may carry the FCS length (LINKTYPE_FCS).
    const lt = this.u32(b, pos + 20);
    const linkType = lt & 0x0fffffff & 0xffff;
    this.pcapHeader = {
      littleEndian: le,
      nanos: this.nanos,
      major: this.u16(b, pos + 4),
      minor: this.u16(b, pos + 6),
      snaplen,
      linkType,
    };
    const fcsBits = (lt >>> 28) & 0x1 ? ((lt >>> 29) & 0x7) * 2 : undefined;
    const iface: PcapInterface = {
      id: 0,
      section: 0,
      linkType,
      snaplen,
      comments: [],
      unitsPerSec: this.nanos ? 1e9 : 1e6,
      ...(fcsBits !== undefined ? { fcslen: fcsBits } : {}),
    };
    this.interfaces = [iface];
    this.allInterfaces = [iface];
    this.linkType = linkType;
    this.ifId = 0;
    this.blockType = 0;
    this.optOff = this.optEnd = 0;
    this.onInterface?.(iface);
    this.state = STATE_PCAP;
    this.pos = pos + 24;
    return SKIPPED;
  }

  private stepNg(b: Buffer, pos: number, avail: number): number {
    if (avail < 12) {
      this.need = 12;
      return NEED;
    }
    const rawType = b.readUInt32LE(pos);
    if (rawType === PCAPNG_SHB) {
      const bom = b.readUInt32LE(pos + 8);
      if (bom === 0x1a2b3c4d) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else
        this.fail(this.base + pos, `section header with a bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`);
    } else if (this.sections.length === 0) {
      this.fail(this.base + pos, 'pcapng block before the first section header');
    }
    const type = rawType === PCAPNG_SHB ? rawType : this.u32(b, pos);
    const len = this.u32(b, pos + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) this.fail(this.base + pos, `block length ${len} is impossible`);
    if (avail < len) {
      this.need = len;
      return NEED;
    }
    if (this.u32(b, pos + len - 4) !== len)
      this.fail(
        this.base + pos + len - 4,
        `block length mismatch (${len} before, ${this.u32(b, pos + len - 4)} after)`,
      );
    const body = pos + 8;
    const bodyEnd = pos + len - 4;
    this.pos = pos + len;
    switch (type) {
      case BLOCK_EPB: {
        if (bodyEnd - body < 20) this.fail(this.base + pos, 'enhanced packet block too short');
        const ifId = this.u32(b, body);
        const iface = this.interfaces[ifId];
        if (!iface) this.fail(this.base + pos, `packet for undeclared interface ${ifId}`);
        const cap = this.u32(b, body + 12);
        if (cap > bodyEnd - body - 20) this.fail(this.base + pos, `captured length ${cap} runs past its block`);
        this.fillPacket(b, iface, body + 4, body + 20, cap, this.u32(b, body + 16), bodyEnd, pos, type);
        return PACKET;
      }
      case BLOCK_SPB: {
        const iface = this.interfaces[0];
        if (!iface) this.fail(this.base + pos, 'simple packet block without an interface');
        if (bodyEnd - body < 4) this.fail(this.base + pos, 'simple packet block too short');
        const orig = this.u32(b, body);
        const cap = Math.min(orig, iface.snaplen || orig, bodyEnd - body - 4);
        this.ifId = 0;
        this.linkType = iface.linkType;
        this.tsHi = this.tsLo = this.tsSec = this.tsNsec = 0;
        this.buf = b;
        this.dataOff = body + 4;
        this.caplen = cap;
        this.origLen = orig;
        this.optOff = this.optEnd = 0;
        this.blockType = type;
        this.recordOffset = this.base + pos;
        return PACKET;
      }
      case BLOCK_PB: {
        if (bodyEnd - body < 20) this.fail(this.base + pos, 'packet block too short');
        const ifId = this.u16(b, body);
        const iface = this.interfaces[ifId];
        if (!iface) this.fail(this.base + pos, `packet for undeclared interface ${ifId}`);
        const cap = this.u32(b, body + 12);
        if (cap > bodyEnd - body - 20) this.fail(this.base + pos, `captured length ${cap} runs past its block`);
        this.fillPacket(b, iface, body + 4, body + 20, cap, this.u32(b, body + 16), bodyEnd, pos, type);
        return PACKET;
      }
      case PCAPNG_SHB:
        this.stateBlocks++;
        this.sectionHeader(b, pos, body, bodyEnd);
        return SKIPPED;
      case BLOCK_IDB:
        this.stateBlocks++;
        this.interfaceBlock(b, pos, body, bodyEnd);
        return SKIPPED;
      case BLOCK_ISB:
        this.statsBlock(b, pos, body, bodyEnd);
        return SKIPPED;
      case BLOCK_NRB:
        this.nameBlock(b, body, bodyEnd);
        return SKIPPED;
      case BLOCK_DSB:
        this.decryptionSecrets++;
        return SKIPPED;
      default:
        // Custom blocks (0x00000BAD, 0x40000BAD) and anything newer: skipped by length.
        this.skippedBlocks++;
        return SKIPPED;
    }
  }

  private fillPacket(
    b: Buffer,
    iface: PcapInterface,
    tsAt: number,
    dataAt: number,
    cap: number,
    orig: number,
    bodyEnd: number,
    pos: number,
    type: number,
  ): void {
    const v = this.viewOf(b);
    const hi = v.getUint32(tsAt, this.le);
    const lo = v.getUint32(tsAt + 4, this.le);
    this.tsHi = hi;
    this.tsLo = lo;
    const units = iface.unitsPerSec;
    if (units === 1e6) {
      const t = hi * 4294967296 + lo;
      const sec = Math.floor(t / 1e6);
      this.tsSec = sec;
      this.tsNsec = (t - sec * 1e6) * 1000;
    } else if (units <= 1e12) {
      // (hi·2³² + lo) / units without leaving exact double arithmetic: hi·2³² / units is
      // worked out in three exact steps of 16 bits once per (hi, units) — hi changes every few
      // seconds at nanosecond resolution — then each packet adds lo with one division.
      if (hi !== this.tsBaseHi || units !== this.tsBaseUnits) {
        const q1 = Math.floor(hi / units);
        let x = (hi - q1 * units) * 65536;
        const q2 = Math.floor(x / units);
        x = (x - q2 * units) * 65536;
        const q3 = Math.floor(x / units);
        this.tsBaseHi = hi;
        this.tsBaseUnits = units;
        this.tsBaseQ = q1 * 4294967296 + q2 * 65536 + q3;
        this.tsBaseR = x - q3 * units;
      }
      // tsBaseR < units ≤ 10¹² and lo < 2³²: x and the quotient stay exact.
      const x = this.tsBaseR + lo;
      const q = Math.floor(x / units);
      const frac = x - q * units;
      this.tsSec = this.tsBaseQ + q;
      // frac·10⁹ / units, exact: in doubles while frac·10⁹ is (the error of the division then stays
      // below 1/units, the distance to the next whole number); finer than that, in BigInt.
      const scaled = frac * 1e9;
      this.tsNsec =
        units === 1e9
          ? frac
          : scaled <= Number.MAX_SAFE_INTEGER
            ? Math.floor(scaled / units)
            : Number((BigInt(frac) * 1_000_000_000n) / BigInt(units));
    } else {
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const u = BigInt(Math.round(units));
      this.tsSec = Number(t / u);
      this.tsNsec = Number(((t % u) * 1_000_000_000n) / u);
    }
    if (iface.tsoffset) this.tsSec += iface.tsoffset;
    this.ifId = iface.id;
    this.linkType = iface.linkType;
    this.buf = b;
    this.dataOff = dataAt;
    this.caplen = cap;
    this.origLen = orig;
    this.optOff = dataAt + cap + ((4 - (cap % 4)) % 4);
    this.optEnd = bodyEnd;
    this.blockType = type;
    this.recordOffset = this.base + pos;
  }

  private sectionHeader(b: Buffer, pos: number, body: number, bodyEnd: number): void {
    if (bodyEnd - body < 16) this.fail(this.base + pos, 'section header too short');
    const s: PcapSection = {
      index: this.sections.length,
      littleEndian: this.le,
      major: this.u16(b, body + 4),
      minor: this.u16(b, body + 6),
      comments: [],
    };
    if (s.major !== 1) this.fail(this.base + pos, `pcapng version ${s.major}.${s.minor} is not supported`);
    for (const [code, start, len] of this.options(b, body + 16, bodyEnd)) {
      const v = b.toString('utf8', start, start + len);
      if (code === 1) s.comments.push(v);
      else if (code === 2) s.hardware = v;
      else if (code === 3) s.os = v;
      else if (code === 4) s.application = v;
    }
    this.sections.push(s);
    this.interfaces = [];
  }

  private interfaceBlock(b: Buffer, pos: number, body: number, bodyEnd: number): void {
    if (bodyEnd - body < 8) this.fail(this.base + pos, 'interface block too short');
    const iface: PcapInterface = {
      id: this.interfaces.length,
      section: this.sections.length - 1,
      linkType: this.u16(b, body),
      snaplen: this.u32(b, body + 4),
      comments: [],
      unitsPerSec: 1e6,
    };
    for (const [code, start, len] of this.options(b, body + 8, bodyEnd)) {
      if (code === 1) iface.comments.push(b.toString('utf8', start, start + len));
      else if (code === 2) iface.name = b.toString('utf8', start, start + len);
      else if (code === 3) iface.description = b.toString('utf8', start, start + len);
      else if (code === 9 && len >= 1) {
        const r = b[start]!;
        iface.tsresol = r;
        const exp = r & 0x7f;
        const units = r & 0x80 ? 2 ** exp : 10 ** exp;
        if (!Number.isFinite(units) || units < 1 || exp > 63)
          this.fail(this.base + pos, `if_tsresol ${r} is impossible`);
        iface.unitsPerSec = units;
      } else if (code === 14 && len >= 8) {
        iface.tsoffset = Number(this.le ? b.readBigInt64LE(start) : b.readBigInt64BE(start));
      } else if (code === 13 && len >= 1) {
        iface.fcslen = b[start]!;
      }
    }
    this.interfaces.push(iface);
    this.allInterfaces.push(iface);
    this.onInterface?.(iface);
  }

  private statsBlock(b: Buffer, pos: number, body: number, bodyEnd: number): void {
    if (bodyEnd - body < 12) this.fail(this.base + pos, 'interface statistics block too short');
    const iface = this.interfaces[this.u32(b, body)];
    if (!iface) return;
    const stats: NonNullable<PcapInterface['stats']> = {};
    const u64 = (o: number) => (this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    for (const [code, start, len] of this.options(b, body + 12, bodyEnd)) {
      if (len !== 8) continue;
      if (code === 4) stats.received = u64(start);
      else if (code === 5) stats.ifDrop = u64(start);
      else if (code === 7) stats.osDrop = u64(start);
      else if (code === 8) stats.delivered = u64(start);
    }
    if (stats.ifDrop !== undefined || stats.osDrop !== undefined)
      stats.dropped = (stats.ifDrop ?? 0n) + (stats.osDrop ?? 0n);
    iface.stats = stats;
  }

  private nameBlock(b: Buffer, body: number, bodyEnd: number): void {
    let o = body;
    while (o + 4 <= bodyEnd) {
      const type = this.u16(b, o);
      const len = this.u16(b, o + 2);
      if (type === 0 || o + 4 + len > bodyEnd) return;
      const v = o + 4;
      const addrLen = type === 1 ? 4 : type === 2 ? 16 : 0;
      if (addrLen && len > addrLen && this.names.size < this.maxNames) {
        const addr = addrLen === 4 ? `${b[v]}.${b[v + 1]}.${b[v + 2]}.${b[v + 3]}` : ipv6Text(b, v);
        const names = b
          .toString('utf8', v + addrLen, v + len)
          .split('\0')
          .filter((s) => s.length > 0);
        this.names.set(addr, names);
      }
      o = v + len + ((4 - (len % 4)) % 4);
    }
  }

  /** pcapng options as [code, value offset, value length], bounds-checked; stops at opt_endofopt. */
  *options(b: Buffer, from: number, to: number): Generator<[number, number, number]> {
    let o = from;
    while (o + 4 <= to) {
      const code = this.u16(b, o);
      const len = this.u16(b, o + 2);
      if (code === 0) return;
      if (o + 4 + len > to) return;
      yield [code, o + 4, len];
      o += 4 + len + ((4 - (len % 4)) % 4);
    }
  }
}

export function ipv6Text(d: Uint8Array, o: number): string {
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((d[o + 2 * i]! << 8) | d[o + 2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, z: number) =>
    g
      .slice(a, z)
      .map((x) => x.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/**
 * Stream mode helper: reads a Node stream (stdin, a child's stdout) with
 * backpressure (one chunk at a time, parsed before the next is pulled) and
 * calls onPacket for each packet with the reader positioned on it.
 */
export async function readStream(
  stream: NodeJS.ReadableStream,
  reader: PcapReader,
  onPacket: (r: PcapReader) => void,
  options: { strict?: boolean; onChunk?: () => void } = {},
): Promise<void> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    reader.feed(chunk);
    while (reader.next()) onPacket(reader);
    // A live pipe: let the consumer show what arrived before waiting for more.
    options.onChunk?.();
  }
  reader.finish();
  while (reader.next()) onPacket(reader);
  reader.end(options.strict ?? true);
}
