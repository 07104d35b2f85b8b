import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateCapture } from '../../bench/pcap/generate.js';
import {
  Decoded,
  decode,
  fastFingerprint,
  fastNatFingerprint,
  natFingerprint,
  PcapReader,
  protoClass,
} from '../../src/pcap/index.js';
import { ether, icmpEcho, ipv4, tcp, udp } from '../helpers/frames.js';

/**
 * read --stats and analyze fingerprint the commonest frames from their bytes (fastFingerprint,
 * fastNatFingerprint) and the rest through decode(): both must give the same fingerprints and
 * protocol class for every frame the fast path takes, and it must decline what it does not know.
 */
function check(data: Uint8Array, start: number, length: number, linkType = 1): boolean {
  const slow = decode(data, start, length, linkType, new Decoded());
  const fast = { fpHi: 0, fpLo: 0 };
  const cls = linkType === 1 ? fastFingerprint(data, start, length, fast) : -1;
  if (cls < 0) return false;
  assert.equal(cls, protoClass(slow), 'protocol class');
  assert.deepEqual([fast.fpHi, fast.fpLo], [slow.fpHi, slow.fpLo], 'fingerprint');
  natFingerprint(slow);
  const nat = { natHi: 0, natLo: 0 };
  assert.equal(fastNatFingerprint(data, start, length, nat), cls, 'class (NAT-tolerant)');
  assert.deepEqual([nat.natHi, nat.natLo], [slow.natHi, slow.natLo], 'NAT-tolerant fingerprint');
  return true;
}

test("every packet of tcpdump's test captures and of a generated mix: the same fingerprint both ways", () => {
  const dir = fileURLToPath(new URL('../../../test/fixtures/tcpdump-tests/', import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), 'hopdump-fastfp-'));
  try {
    const mix = join(tmp, 'mix.pcap');
    generateCapture(mix, { packets: 20_000, snaplen: 100 });
    const files = [
      ...readdirSync(dir)
        .filter((f) => /\.pcap(ng)?$/.test(f))
        .map((f) => join(dir, f)),
      mix,
    ];
    let fast = 0;
    let all = 0;
    for (const f of files) {
      const r = PcapReader.openFile(f);
      try {
        while (r.next()) {
          all++;
          if (check(r.buf, r.dataOff, r.caplen, r.linkType)) fast++;
        }
      } finally {
        r.close();
      }
    }
    // The fast path is taken for most packets (else it would be tested on nothing).
    assert.ok(fast > all / 2, `${fast} of ${all} packets took the fast path`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('random IPv4 frames, cut anywhere and with any header bytes: the same fingerprint both ways', () => {
  const frame = fc.oneof(
    fc.record({
      p: fc.constant('tcp'),
      data: fc.uint8Array({ maxLength: 40 }),
      flags: fc.integer({ min: 0, max: 511 }),
    }),
    fc.record({
      p: fc.constant('udp'),
      data: fc.uint8Array({ maxLength: 40 }),
      port: fc.integer({ min: 0, max: 65535 }),
    }),
    fc.record({
      p: fc.constant('icmp'),
      data: fc.uint8Array({ maxLength: 40 }),
      type: fc.integer({ min: 0, max: 255 }),
    }),
  );
  fc.assert(
    fc.property(
      frame,
      fc.integer({ min: 0, max: 120 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 119 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      (f, cut, pokes) => {
        const payload =
          f.p === 'tcp'
            ? tcp({ sport: 1000, dport: 80, flags: f.flags & 0xff, payload: Buffer.from(f.data) })
            : f.p === 'udp'
              ? udp({ sport: 53, dport: f.port, payload: Buffer.from(f.data) })
              : icmpEcho({ type: f.type, data: Buffer.from(f.data) });
        const bytes = Buffer.from(ether(ipv4({ proto: f.p === 'tcp' ? 6 : f.p === 'udp' ? 17 : 1, payload })));
        // Any byte may be anything (version, IHL, lengths, fragment bits, ports, the TCP offset).
        for (const [at, v] of pokes) if (at < bytes.length) bytes[at] = v;
        check(bytes, 0, Math.min(cut, bytes.length));
        check(bytes, 0, bytes.length);
      },
    ),
    { numRuns: 3000 },
  );
});
