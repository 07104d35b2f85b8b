import { ether, icmpEcho, ipv4 } from './frames.js';
import { NgBuilder, pcapBytes } from './pcapng.js';

const frame = (seq: number, size = 0) =>
  ether(ipv4({ proto: 1, payload: icmpEcho({ seq, data: Buffer.alloc(16 + size, seq) }) }));

/** Hostile and broken inputs, each with the error it must give (the corpus of malformed files). */
export function malformedCorpus(): Array<{ name: string; bytes: Buffer; error: RegExp }> {
  const good = pcapBytes([{ data: frame(1), sec: 1, frac: 0 }]);
  const ng = () => new NgBuilder().shb(true).idb(1);
  const withLen = (b: Buffer, at: number, v: number) => {
    const c = Buffer.from(b);
    c.writeUInt32LE(v, at);
    return c;
  };
  const shbOnly = ng().build();
  return [
    { name: 'empty', bytes: Buffer.alloc(0), error: /empty file at byte 0$/ },
    {
      name: 'bad magic',
      bytes: Buffer.from('GIF89a this is not a capture'),
      error: /not a pcap or pcapng file \(magic 0x47494638\) at byte 0$/,
    },
    { name: 'pcap header cut', bytes: good.subarray(0, 20), error: /truncated file header at byte 0$/ },
    {
      name: 'absurd record length',
      bytes: withLen(good, 24 + 8, 0x7fffffff),
      error: /record claims 2147483647 captured bytes .* at byte 24$/,
    },
    {
      name: 'record longer than the file',
      bytes: withLen(good, 24 + 8, 200_000),
      error: /truncated record \(\d+ of 200016 bytes\) at byte 24$/,
    },
    {
      name: 'pcapng zero block length',
      bytes: Buffer.concat([shbOnly, Buffer.from([6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]),
      error: new RegExp(`block length 0 is impossible at byte ${shbOnly.length}$`),
    },
    {
      name: 'pcapng block length not a multiple of 4',
      bytes: withLen(ng().epb(0, 1n, frame(1)).build(), shbOnly.length + 4, 101),
      error: new RegExp(`block length 101 is impossible at byte ${shbOnly.length}$`),
    },
    {
      name: 'pcapng absurd block length',
      bytes: withLen(ng().epb(0, 1n, frame(1)).build(), shbOnly.length + 4, 0xfffffff0),
      error: /block length 4294967280 is impossible/,
    },
    {
      name: 'pcapng trailing length mismatch',
      bytes: (() => {
        const b = ng().epb(0, 1n, frame(1)).build();
        b.writeUInt32LE(96, b.length - 4);
        return b;
      })(),
      error: /block length mismatch \(\d+ before, 96 after\) at byte \d+$/,
    },
    {
      name: 'pcapng bad byte-order magic',
      bytes: withLen(shbOnly, 8, 0x12345678),
      error: /section header with a bad byte-order magic 0x12345678 at byte 0$/,
    },
    {
      name: 'pcapng block before any section',
      bytes: Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]).subarray(0, 0), new NgBuilder().idb(1).build()]),
      error: /not a pcap or pcapng file/,
    },
    {
      name: 'pcapng version 2',
      bytes: new NgBuilder().shb(true, [], 2).build(),
      error: /pcapng version 2\.0 is not supported at byte 0$/,
    },
    {
      name: 'packet for an undeclared interface',
      bytes: new NgBuilder().shb(true).idb(1).epb(3, 1n, frame(1)).build(),
      error: /packet for undeclared interface 3 at byte \d+$/,
    },
    {
      name: 'captured length past its block (snaplen lie)',
      bytes: (() => {
        const b = ng().epb(0, 1n, frame(1)).build();
        b.writeUInt32LE(5000, shbOnly.length + 20);
        return b;
      })(),
      error: /captured length 5000 runs past its block at byte \d+$/,
    },
    {
      name: 'enhanced packet block too short',
      bytes: ng().block(6, Buffer.alloc(8)).build(),
      error: /enhanced packet block too short/,
    },
    {
      name: 'interface block too short',
      bytes: new NgBuilder().shb(true).block(1, Buffer.alloc(4)).build(),
      error: /interface block too short/,
    },
    {
      name: 'impossible if_tsresol',
      bytes: new NgBuilder()
        .shb(true)
        .idb(1, [[9, Buffer.from([0xff])]])
        .build(),
      error: /if_tsresol 255 is impossible/,
    },
    {
      name: 'pcapng cut mid-block',
      bytes: ng()
        .epb(0, 1n, frame(1))
        .build()
        .subarray(0, shbOnly.length + 30),
      error: /truncated record \(30 of \d+ bytes\)/,
    },
  ];
}

/** Well-formed seeds for mutation: classic pcap both orders, pcapng with every block kind. */
export function validSeeds(): Buffer[] {
  const frames = [frame(1), frame(2, 200), frame(3, 1400)];
  const ng = new NgBuilder()
    .shb(true, [[1, 'seed']])
    .idb(1, [
      [2, 'eth0'],
      [9, Buffer.from([9])],
    ])
    .idb(276, [[2, 'any']])
    .epb(0, 5n, frames[0]!, [[1, 'comment']])
    .spb(frames[1]!)
    .pb(0, 7n, frames[2]!)
    .block(5, Buffer.alloc(12))
    .block(0x0bad, Buffer.alloc(8))
    .shb(false)
    .idb(1)
    .epb(0, 9n, frames[0]!)
    .build();
  return [
    pcapBytes(frames.map((data, i) => ({ data, sec: i, frac: i }))),
    pcapBytes(
      frames.map((data, i) => ({ data, sec: i, frac: i })),
      { le: false, nanos: true },
    ),
    ng,
  ];
}
