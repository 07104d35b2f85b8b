import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Decoded, decode, fingerprintHex, summarize, TcpRelative, toJson } from '../../src/pcap/index.js';
import { ether, ipv4, ipv6, tcp } from '../helpers/frames.js';

/** TCP relative sequence numbers (tcpdump without -S): the rules, and the bound on the state. */

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

interface Seg {
  src?: string;
  dst?: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: string;
  options?: number[];
  v6?: boolean;
}

function frame(s: Seg): Buffer {
  const t = tcp({
    sport: s.sport,
    dport: s.dport,
    seq: s.seq,
    ack: s.ack ?? 0,
    flags: s.flags,
    ...(s.options ? { options: s.options } : {}),
    ...(s.payload ? { payload: Buffer.from(s.payload) } : {}),
  });
  if (s.v6)
    return ether(ipv6({ src: s.src ?? '2001:db8::1', dst: s.dst ?? '2001:db8::2', next: 6, payload: t }), {
      type: 0x86dd,
    });
  return ether(ipv4({ src: s.src ?? '192.0.2.1', dst: s.dst ?? '192.0.2.2', proto: 6, payload: t }));
}

const dec = (s: Seg) => {
  const f = frame(s);
  return { p: decode(f, 0, f.length, 1, new Decoded()), len: f.length };
};
/** The text after the addresses, with the given state (undefined: absolute, as -S). */
const line = (s: Seg, rel: TcpRelative | undefined) => {
  const { p, len } = dec(s);
  return summarize(p, len, false, false, rel).replace(/^IP6? \S+ > \S+: /, '');
};

function handshake(rel: TcpRelative, v6 = false, c = 40000, base = { client: 1000, server: 5000 }) {
  const cl = { sport: c, dport: 80, v6 } as const;
  const sv = {
    sport: 80,
    dport: c,
    v6,
    src: v6 ? '2001:db8::2' : '192.0.2.2',
    dst: v6 ? '2001:db8::1' : '192.0.2.1',
  } as const;
  return [
    line({ ...cl, seq: base.client, flags: SYN }, rel),
    line({ ...sv, seq: base.server, ack: base.client + 1, flags: SYN | ACK }, rel),
    line({ ...cl, seq: base.client + 1, ack: base.server + 1, flags: ACK }, rel),
    line({ ...cl, seq: base.client + 1, ack: base.server + 1, flags: PSH | ACK, payload: 'hello' }, rel),
    line({ ...sv, seq: base.server + 1, ack: base.client + 6, flags: ACK }, rel),
  ];
}

test('a handshake as tcpdump prints it: SYN and SYN-ACK absolute, then relative; no seq on a pure ACK', () => {
  for (const v6 of [false, true]) {
    const rel = new TcpRelative();
    assert.deepEqual(handshake(rel, v6), [
      'Flags [S], seq 1000, win 64240, length 0',
      'Flags [S.], seq 5000, ack 1001, win 64240, length 0',
      'Flags [.], ack 1, win 64240, length 0',
      'Flags [P.], seq 1:6, ack 1, win 64240, length 5',
      'Flags [.], ack 6, win 64240, length 0',
    ]);
    assert.equal(rel.size, 1, 'one entry for both directions');
  }
  // -S: absolute numbers, the same rule for when seq is shown.
  const abs = [
    line({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: ACK }, undefined),
    line({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: PSH | ACK, payload: 'hello' }, undefined),
  ];
  assert.deepEqual(abs, [
    'Flags [.], ack 5001, win 64240, length 0',
    'Flags [P.], seq 1001:1006, ack 5001, win 64240, length 5',
  ]);
});

test('numbers wrap modulo 2^32; a SYN on a known 4-tuple starts a new base; SACK blocks are relative', () => {
  const rel = new TcpRelative();
  const top = 0xfffffff0;
  const cl = { sport: 40000, dport: 443 };
  const sv = { sport: 443, dport: 40000, src: '192.0.2.2', dst: '192.0.2.1' };
  line({ ...sv, seq: 7, ack: top + 1, flags: SYN | ACK }, rel);
  assert.equal(
    line({ ...cl, seq: top + 1, ack: 8, flags: PSH | ACK, payload: 'x'.repeat(32) }, rel),
    'Flags [P.], seq 1:33, ack 1, win 64240, length 32',
  );
  // The client's data acknowledged with a SACK block for bytes 17..33 of it.
  const sack = [1, 1, 5, 10, ...u32(((top + 17) >>> 0) % 2 ** 32), ...u32((top + 33) % 2 ** 32)];
  assert.equal(
    line({ ...sv, seq: 8, ack: top + 1, flags: ACK, options: sack }, rel),
    'Flags [.], ack 1, win 64240, options [nop,nop,sack 1 {17:33}], length 0',
  );
  // A new connection on the same 4-tuple (SYN-ACK): absolute again, then relative to it.
  assert.equal(
    line({ ...sv, seq: 900, ack: 101, flags: SYN | ACK }, rel),
    'Flags [S.], seq 900, ack 101, win 64240, length 0',
  );
  assert.equal(line({ ...cl, seq: 101, ack: 901, flags: ACK }, rel), 'Flags [.], ack 1, win 64240, length 0');
  assert.equal(rel.size, 1);
});

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

test('equal ports: the direction is fixed by the lower address, as tcpdump keys it', () => {
  const rel = new TcpRelative();
  const a = { sport: 179, dport: 179, src: '192.0.2.9', dst: '192.0.2.1' };
  const b = { sport: 179, dport: 179, src: '192.0.2.1', dst: '192.0.2.9' };
  line({ ...a, seq: 100, ack: 200, flags: ACK }, rel);
  assert.equal(
    line({ ...b, seq: 200, ack: 150, flags: PSH | ACK, payload: 'ab' }, rel),
    'Flags [P.], seq 1:3, ack 50, win 64240, length 2',
  );
  assert.equal(line({ ...a, seq: 150, ack: 202, flags: ACK }, rel), 'Flags [.], ack 3, win 64240, length 0');
  assert.equal(rel.size, 1);
});

test('the state is bounded: at most capacity connections, the one seen least recently forgotten', () => {
  const rel = new TcpRelative(4);
  const first = (port: number) => line({ sport: port, dport: 80, seq: 1000 + port, ack: 9000, flags: ACK }, rel);
  const next = (port: number) => line({ sport: port, dport: 80, seq: 1010 + port, ack: 9005, flags: ACK }, rel);
  for (const port of [1001, 1002, 1003, 1004]) first(port);
  assert.equal(rel.size, 4);
  assert.equal(next(1001), 'Flags [.], ack 6, win 64240, length 0', 'known: relative');
  // A fifth connection: 1002 (seen least recently; 1001 was just seen) is forgotten.
  first(1005);
  assert.equal(rel.size, 4);
  assert.equal(next(1002), 'Flags [.], ack 9005, win 64240, length 0', 'forgotten: a new base, absolute');
  assert.equal(next(1001), 'Flags [.], ack 6, win 64240, length 0', 'still known');
  assert.equal(rel.size, 4);

  // The default bound: 65,536 connections, whatever the number of connections in the file.
  const big = new TcpRelative();
  assert.equal(big.capacity, 65_536);
  const d = new Decoded();
  for (let i = 0; i < 70_000; i++) {
    const f = frame({
      sport: 1024 + (i % 60_000),
      dport: 80,
      src: `198.51.100.${1 + Math.floor(i / 60_000)}`,
      seq: i,
      ack: 1,
      flags: ACK,
    });
    big.apply(decode(f, 0, f.length, 1, d));
  }
  assert.equal(big.size, 65_536);
  assert.throws(() => new TcpRelative(0), RangeError);
});

test('relative numbers are text only: decode(), the fingerprints and --json keep the absolute ones', () => {
  const s: Seg = { sport: 40000, dport: 80, seq: 123456, ack: 654321, flags: PSH | ACK, payload: 'data' };
  const { p, len } = dec(s);
  const fp = fingerprintHex(p.fpHi, p.fpLo);
  const rel = new TcpRelative();
  summarize(p, len, false, false, rel);
  const text = summarize(p, len, false, false, rel);
  assert.match(text, /seq 0:4, ack 1,/, 'the second sighting is relative to the first');
  assert.deepEqual([p.seq, p.ack], [123456, 654321]);
  assert.equal(fingerprintHex(p.fpHi, p.fpLo), fp);
  const j = toJson(p, len) as { tcp: { seq: number; ack: number }; fingerprint: string };
  assert.deepEqual([j.tcp.seq, j.tcp.ack, j.fingerprint], [123456, 654321, fp]);
  // Reports (compact): absolute, seq always shown.
  assert.match(summarize(p, len, false, true), /Flags \[P\.\], seq 123456:123460, ack 654321, win 64240, length 4$/);
});

test('any TCP options, data offset, flags and cut, and any Geneve header: the text never throws', () => {
  const rel = new TcpRelative(8);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 120 }),
      fc.boolean(),
      (opts, off, flags, cut, geneve) => {
        let f: Buffer;
        if (geneve) {
          const inner = Buffer.concat([Buffer.from(opts), ether(ipv4({ proto: 6, payload: tcp({ flags: ACK }) }))]);
          const u = Buffer.alloc(8 + inner.length);
          u.writeUInt16BE(40000, 0);
          u.writeUInt16BE(6081, 2);
          u.writeUInt16BE(u.length, 4);
          inner.copy(u, 8);
          f = ether(ipv4({ proto: 17, payload: u }));
        } else {
          const t = tcp({ flags, options: [...opts, ...new Array<number>((4 - (opts.length % 4)) % 4).fill(0)] });
          t[12] = (off << 4) | (t[12]! & 0x0f);
          f = ether(ipv4({ proto: 6, payload: t }));
        }
        const len = Math.max(14, f.length - cut);
        const p = decode(f, 0, len, 1, new Decoded());
        for (const r of [rel, undefined]) {
          const s = summarize(p, f.length, false, false, r);
          if (typeof s !== 'string' || s.length === 0) return false;
        }
        return true;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(rel.size <= 8);
});
