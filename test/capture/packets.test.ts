import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CaptureFormatError, CaptureParser, decodePacket } from '../../src/capture/packets.js';
import { pcapFile } from '../helpers/pcap.js';

function pcap(frames: Uint8Array[]): Buffer {
  return pcapFile(frames.map((data, i) => ({ data, sec: 1_700_000_000 + i, usec: i })));
}

/** An Ethernet/IPv4/ICMP echo request from 192.0.2.100 to 192.0.2.11. */
function echo(id: number, seq: number, ttl = 64): Uint8Array {
  const f = Buffer.alloc(14 + 20 + 8 + 8);
  Buffer.from([0x52, 0x54, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x64]).copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(36, 16);
  f.writeUInt16BE(0x1234, 18);
  f[22] = ttl;
  f[23] = 1;
  Buffer.from([192, 0, 2, 100, 192, 0, 2, 11]).copy(f, 26);
  f[34] = 8;
  f.writeUInt16BE(id, 38);
  f.writeUInt16BE(seq, 40);
  return f;
}

function parseAll(buf: Buffer, chunk: number): Array<{ ts: bigint; len: number }> {
  const out: Array<{ ts: bigint; len: number }> = [];
  const p = new CaptureParser('t.pcap', { onPacket: (_i, ts, data) => out.push({ ts, len: data.length }) });
  for (let o = 0; o < buf.length; o += chunk) p.push(buf.subarray(o, o + chunk));
  p.end(true);
  return out;
}

test('records straddling chunk boundaries come out whole, whatever the chunk size', () => {
  const file = pcap([echo(1, 1), echo(1, 2), echo(1, 3)]);
  for (const chunk of [1, 3, 7, 16, 50, 4096]) {
    const got = parseAll(file, chunk);
    assert.equal(got.length, 3, `chunk ${chunk}`);
    assert.deepEqual(got.map((g) => g.ts), [1_700_000_000_000_000_000n, 1_700_000_001_000_001_000n, 1_700_000_002_000_002_000n]);
  }
});

test('the same packet at two hops has one fingerprint though TTL and MACs differ', () => {
  const a = decodePacket(0, 0n, echo(7, 1, 64), 50, 1);
  const bBytes = Buffer.from(echo(7, 1, 63));
  bBytes[0] = 0xaa;
  const b = decodePacket(1, 0n, bBytes, 50, 1);
  assert.equal(a.fp, b.fp);
  assert.notEqual(a.fp, decodePacket(0, 0n, echo(7, 2), 50, 1).fp, 'another sequence number is another packet');
  assert.match(a.summary, /IP 192\.0\.2\.100 > 192\.0\.2\.11: ICMP echo request, id 7, seq 1/);
});

test('mutated and random files: a CaptureFormatError naming a byte offset or a clean parse, never anything else', () => {
  const valid = pcap([echo(1, 1), echo(2, 2)]);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((muts) => {
          const b = Buffer.from(valid);
          for (const [at, v] of muts) b[at] = v;
          return new Uint8Array(b);
        }),
      ),
      fc.integer({ min: 1, max: 64 }),
      (bytes, chunk) => {
        try {
          const p = new CaptureParser('f', { onPacket: (_i, _ts, data, orig, linkType) => void decodePacket(0, 0n, data, orig, linkType) });
          for (let o = 0; o < bytes.length; o += chunk) p.push(Buffer.from(bytes.subarray(o, o + chunk)));
          p.end(true);
          return true;
        } catch (err) {
          return err instanceof CaptureFormatError && /at byte \d+$/.test(err.message);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('pcapng: interfaces with names, nanosecond resolution, packets on each', () => {
  const block = (type: number, body: Buffer) => {
    const b = Buffer.alloc(12 + body.length);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(b.length, 4);
    body.copy(b, 8);
    b.writeUInt32LE(b.length, b.length - 4);
    return b;
  };
  const opt = (code: number, v: Buffer) => {
    const o = Buffer.alloc(4 + v.length + ((4 - (v.length % 4)) % 4));
    o.writeUInt16LE(code, 0);
    o.writeUInt16LE(v.length, 2);
    v.copy(o, 4);
    return o;
  };
  const shbBody = Buffer.alloc(16);
  shbBody.writeUInt32LE(0x1a2b3c4d, 0);
  shbBody.writeUInt16LE(1, 4);
  shbBody.writeBigInt64LE(-1n, 8);
  const idb = (name: string) => {
    const fixed = Buffer.alloc(8);
    fixed.writeUInt16LE(1, 0);
    return block(1, Buffer.concat([fixed, opt(2, Buffer.from(name)), opt(9, Buffer.from([9])), Buffer.alloc(4)]));
  };
  const epb = (iface: number, ts: bigint, data: Uint8Array) => {
    const fixed = Buffer.alloc(20);
    fixed.writeUInt32LE(iface, 0);
    fixed.writeUInt32LE(Number(ts >> 32n), 4);
    fixed.writeUInt32LE(Number(ts & 0xffffffffn), 8);
    fixed.writeUInt32LE(data.length, 12);
    fixed.writeUInt32LE(data.length, 16);
    return block(6, Buffer.concat([fixed, Buffer.from(data), Buffer.alloc((4 - (data.length % 4)) % 4)]));
  };
  const file = Buffer.concat([block(0x0a0d0d0a, shbBody), idb('hv/eth0'), idb('hv/vnet0'), epb(0, 5n, echo(1, 1)), epb(1, 7n, echo(1, 1)), block(0x00000bad, Buffer.alloc(8))]);
  const names: string[] = [];
  const seen: Array<[number, bigint]> = [];
  const p = new CaptureParser('t.pcapng', { onInterface: (i) => names.push(i.name ?? ''), onPacket: (iface, ts) => seen.push([iface, ts]) });
  p.push(file);
  p.end(true);
  assert.deepEqual(names, ['hv/eth0', 'hv/vnet0']);
  assert.deepEqual(seen, [
    [0, 5n],
    [1, 7n],
  ]);
  const bad = Buffer.from(file);
  bad.writeUInt32LE(13, 4);
  assert.throws(() => new CaptureParser('x', { onPacket: () => undefined }).push(bad), /block length 13 is impossible at byte 0/);
});
