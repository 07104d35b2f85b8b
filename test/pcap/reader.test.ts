import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Decoded, decode, fingerprintHex, PcapFormatError, PcapReader } from '../../src/pcap/index.js';
import { ether, icmpEcho, ipv4 } from '../helpers/frames.js';
import { malformedCorpus } from '../helpers/corpus.js';
import { NgBuilder, pcapBytes } from '../helpers/pcapng.js';

interface Seen {
  ts: string;
  len: number;
  orig: number;
  ifId: number;
  linkType: number;
  fp: string;
}

const d = new Decoded();
function seen(r: PcapReader): Seen {
  decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
  return {
    ts: `${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`,
    len: r.caplen,
    orig: r.origLen,
    ifId: r.ifId,
    linkType: r.linkType,
    fp: fingerprintHex(d.fpHi, d.fpLo),
  };
}

/** Stream mode, fed in the given chunk sizes (cycled). */
export function readChunks(bytes: Buffer, sizes: number[], strict = true): { packets: Seen[]; reader: PcapReader } {
  const r = new PcapReader('test');
  const out: Seen[] = [];
  let o = 0;
  let k = 0;
  while (o < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    r.feed(bytes.subarray(o, o + n));
    o += n;
    while (r.next()) out.push(seen(r));
  }
  r.finish();
  while (r.next()) out.push(seen(r));
  r.end(strict);
  return { packets: out, reader: r };
}

const dir = mkdtempSync(join(tmpdir(), 'hopdump-reader-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function readFile(bytes: Buffer, chunkSize?: number): { packets: Seen[]; reader: PcapReader } {
  const f = join(dir, `f${Math.random().toString(16).slice(2)}.cap`);
  writeFileSync(f, bytes);
  const r = PcapReader.openFile(f, chunkSize ? { chunkSize } : {});
  const out: Seen[] = [];
  try {
    while (r.next()) out.push(seen(r));
    r.end(true);
  } finally {
    r.close();
  }
  return { packets: out, reader: r };
}

const frame = (seq: number, size = 0) =>
  ether(ipv4({ proto: 1, payload: icmpEcho({ seq, data: Buffer.alloc(16 + size, seq) }) }));

test('classic pcap: both byte orders, micro- and nanosecond magic, snaplen and wire length', () => {
  for (const le of [true, false]) {
    for (const nanos of [false, true]) {
      const bytes = pcapBytes(
        [
          { data: frame(1), sec: 1_700_000_000, frac: nanos ? 123_456_789 : 123_456 },
          { data: frame(2).subarray(0, 40), sec: 1_700_000_001, frac: 5, orig: 98 },
        ],
        { le, nanos, snaplen: 40 },
      );
      const { packets, reader } = readFile(bytes);
      assert.equal(reader.format, 'pcap');
      assert.equal(reader.pcapHeader!.littleEndian, le);
      assert.equal(reader.pcapHeader!.snaplen, 40);
      assert.deepEqual(
        packets.map((p) => [p.ts, p.len, p.orig]),
        [
          [nanos ? '1700000000.123456789' : '1700000000.123456000', frame(1).length, frame(1).length],
          [nanos ? '1700000001.000000005' : '1700000001.000005000', 40, 98],
        ],
        `le=${le} nanos=${nanos}`,
      );
      // The same packet, whatever the file's byte order, is the same packet.
      assert.equal(packets[0]!.fp, readFile(pcapBytes([{ data: frame(1), sec: 0, frac: 0 }])).packets[0]!.fp);
    }
  }
});

test('a truncated final record: the packets before it are read, then an error naming its offset', () => {
  const whole = pcapBytes([frame(1), frame(2), frame(3)].map((data, i) => ({ data, sec: i, frac: 0 })));
  const cut = whole.subarray(0, whole.length - 10);
  const f = join(dir, 'cut.pcap');
  writeFileSync(f, cut);
  const r = PcapReader.openFile(f);
  let n = 0;
  const offsetOfThird = 24 + 2 * (16 + frame(1).length);
  assert.throws(
    () => {
      while (r.next()) n++;
    },
    (err: unknown) =>
      err instanceof PcapFormatError &&
      err.offset === offsetOfThird &&
      /truncated record \(\d+ of \d+ bytes\) at byte \d+$/.test(err.message),
  );
  r.close();
  assert.equal(n, 2);
  // A live capture stopped mid-record: not strict, the partial record is dropped.
  const live = readChunks(cut, [100], false);
  assert.equal(live.packets.length, 2);
  assert.ok(live.reader.leftover > 0);
});

test('records straddling chunk boundaries come out whole and identical, whatever the chunking', () => {
  const bytes = pcapBytes(
    [frame(1, 100), frame(2, 1400), frame(3), frame(4, 700)].map((data, i) => ({ data, sec: 10 + i, frac: i })),
  );
  const whole = readFile(bytes).packets;
  assert.equal(whole.length, 4);
  for (const size of [1, 2, 3, 7, 15, 16, 17, 23, 24, 25, 64, 1000, 4096]) {
    assert.deepEqual(readChunks(bytes, [size]).packets, whole, `chunk ${size}`);
    assert.deepEqual(readFile(bytes, size).packets, whole, `file buffer ${size}`);
  }
  const ng = new NgBuilder()
    .shb(true)
    .idb(1, [[9, Buffer.from([9])]])
    .epb(0, 5n, frame(1, 300))
    .epb(0, 6n, frame(2, 1000))
    .build();
  const ngWhole = readFile(ng).packets;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 20 }), (sizes) => {
      assert.deepEqual(readChunks(bytes, sizes).packets, whole);
      assert.deepEqual(readChunks(ng, sizes).packets, ngWhole);
    }),
    { numRuns: 300 },
  );
});

test('pcapng: sections in both byte orders, interface options, every packet block kind, other blocks skipped', () => {
  const b = new NgBuilder();
  b.shb(true, [
    [1, 'first section'],
    [2, 'x86_64'],
    [3, 'Linux'],
    [4, 'hopdump test'],
  ]);
  const offset = Buffer.alloc(8);
  offset.writeBigInt64LE(100n);
  b.idb(1, [
    [2, 'hv/eth0'],
    [3, 'uplink'],
    [9, Buffer.from([9])],
    [13, Buffer.from([4])],
    [14, offset],
  ]);
  b.idb(113, [
    [2, 'any'],
    [9, Buffer.from([0x80 | 20])],
  ]);
  b.epb(0, 1_700_000_000_123_456_789n, frame(1), [[1, 'a packet comment']]);
  b.epb(
    1,
    BigInt(1_700_000_001) * 2n ** 20n + 2n ** 19n,
    Buffer.concat([
      Buffer.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 8, 0]),
      ipv4({ proto: 1, payload: icmpEcho({}) }),
    ]),
  );
  b.spb(frame(2));
  b.pb(0, 1_700_000_002_000_000_000n, frame(3));
  // NRB: 192.0.2.1 = gw.example, then end
  b.block(
    4,
    Buffer.concat([
      Buffer.from([1, 0, 15, 0, 192, 0, 2, 1]),
      Buffer.from('gw.example\0'),
      Buffer.alloc(1),
      Buffer.alloc(4),
    ]),
  );
  // ISB for interface 0: received 5, if drop 1, os drop 2
  b.block(
    5,
    Buffer.concat([
      b.u32(0),
      b.u32(0),
      b.u32(0),
      b.opt(4, b.u64(5n)),
      b.opt(5, b.u64(1n)),
      b.opt(7, b.u64(2n)),
      Buffer.alloc(4),
    ]),
  );
  b.block(0x0a, Buffer.concat([b.u32(0x544c534b), b.u32(4), Buffer.from('KEYS')]));
  b.block(0x00000bad, Buffer.alloc(8));
  b.block(0x40000bad, Buffer.alloc(4));
  b.block(0x0000ffff, Buffer.alloc(0));
  // A second section, big-endian, with its own interface 0 (nanosecond).
  b.shb(false, [[1, 'second section']]);
  b.idb(1, [
    [2, 'guest/eth0'],
    [9, Buffer.from([9])],
  ]);
  b.epb(0, 1_700_000_003_000_000_007n, frame(4));
  const bytes = b.build();
  for (const mode of ['file', 'stream'] as const) {
    const { packets, reader } = mode === 'file' ? readFile(bytes) : readChunks(bytes, [13]);
    assert.equal(reader.format, 'pcapng');
    assert.deepEqual(
      reader.sections.map((s) => [s.littleEndian, s.comments, s.hardware, s.os, s.application]),
      [
        [true, ['first section'], 'x86_64', 'Linux', 'hopdump test'],
        [false, ['second section'], undefined, undefined, undefined],
      ],
    );
    const [eth0, any, guest] = reader.allInterfaces;
    assert.equal(eth0!.name, 'hv/eth0');
    assert.equal(eth0!.description, 'uplink');
    assert.equal(eth0!.fcslen, 4);
    assert.equal(eth0!.tsoffset, 100);
    assert.equal(eth0!.unitsPerSec, 1e9);
    assert.deepEqual(eth0!.stats, { received: 5n, ifDrop: 1n, osDrop: 2n, dropped: 3n });
    assert.equal(any!.linkType, 113);
    assert.equal(any!.unitsPerSec, 2 ** 20);
    assert.equal(guest!.name, 'guest/eth0');
    assert.equal(guest!.section, 1);
    assert.deepEqual(
      packets.map((p) => [p.ts, p.ifId, p.linkType]),
      [
        ['1700000100.123456789', 0, 1], // if_tsoffset adds 100 s
        ['1700000001.500000000', 1, 113], // 2^-20 s units
        ['0.000000000', 0, 1], // SPB: no timestamp
        ['1700000102.000000000', 0, 1], // obsolete PB
        ['1700000003.000000007', 0, 1], // big-endian section
      ],
      mode,
    );
    assert.deepEqual(reader.names.get('192.0.2.1'), ['gw.example']);
    assert.equal(reader.decryptionSecrets, 1);
    assert.equal(reader.skippedBlocks, 3);
    // An SLL frame and its Ethernet twin are the same packet.
    assert.equal(
      packets[1]!.fp,
      readFile(pcapBytes([{ data: ether(ipv4({ proto: 1, payload: icmpEcho({}) })), sec: 0, frac: 0 }])).packets[0]!.fp,
    );
  }
});

test('the malformed corpus: each gives its clear error naming the byte offset, in file and stream mode', () => {
  for (const c of malformedCorpus()) {
    for (const mode of ['file', 'stream'] as const) {
      assert.throws(
        () => (mode === 'file' ? readFile(c.bytes) : readChunks(c.bytes, [7])),
        (err: unknown) =>
          err instanceof PcapFormatError && c.error.test(err.message) && /at byte \d+$/.test(err.message),
        `${c.name} (${mode})`,
      );
    }
  }
});

test('mutated and random inputs: a PcapFormatError naming a byte offset or a clean read, never anything else', () => {
  const pcap = pcapBytes([frame(1), frame(2, 50)].map((data, i) => ({ data, sec: i, frac: i })));
  const ng = new NgBuilder()
    .shb(true)
    .idb(1, [[2, 'x']])
    .epb(0, 1n, frame(1), [[1, 'c']])
    .spb(frame(2))
    .build();
  const mutate = (base: Buffer) =>
    fc
      .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })
      .map((muts) => {
        const b = Buffer.from(base);
        for (const [at, v] of muts) b[at] = v;
        return b;
      });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
        mutate(pcap),
        mutate(ng),
        mutate(ng).map((b) => b.subarray(0, b.length - 5)),
      ),
      fc.integer({ min: 1, max: 64 }),
      (bytes, chunk) => {
        try {
          readChunks(bytes, [chunk]);
          return true;
        } catch (err) {
          return err instanceof PcapFormatError && /at byte \d+$/.test(err.message);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('pcapng timestamps at any resolution (powers of 10 and of 2) are exact, as BigInt arithmetic gives them', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 40 }).map((e) => 0x80 | e),
      ),
      // Seconds since 1970 up to the year 2242 (what a double holds exactly and more), any fraction.
      fc.bigInt({ min: 0n, max: 2n ** 33n }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.bigInt({ min: 0n, max: 2n ** 34n }), { minLength: 1, maxLength: 20 }),
      (tsresol, sec, fraction, steps) => {
        const units = BigInt(tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol);
        // ... and the 64-bit field holds it.
        const start = (sec % (2n ** 62n / units + 1n)) * units + BigInt(Math.floor(fraction * Number(units - 1n)));
        const b = new NgBuilder().shb(true).idb(1, [[9, Buffer.from([tsresol])]]);
        const want: string[] = [];
        let t = start;
        for (const step of steps) {
          t += step;
          b.epb(0, t, Buffer.alloc(14));
          want.push(`${t / units}.${((t % units) * 1_000_000_000n) / units}`);
        }
        const r = new PcapReader('timestamps');
        r.feed(b.build());
        r.finish();
        const got: string[] = [];
        while (r.next()) got.push(`${r.tsSec}.${r.tsNsec}`);
        assert.deepEqual(got, want);
      },
    ),
    { numRuns: 300 },
  );
});
