import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateHops } from '../../bench/pcap/generate.js';
import { Decoded, decode, HopMatcher, MergedReaders, natFingerprint, segments } from '../../src/pcap/index.js';

const SEC = 1_790_000_000;

test('HopMatcher: complete, forward-lost, reverse-lost journeys and duplicates, settled by window', () => {
  const m = new HopMatcher(4, 1e9);
  let t = 0;
  const at = (hop: number, key: number) => m.add(hop, SEC + Math.floor(t / 1e9), t % 1e9, key, key ^ 0x5555);
  // A: crosses every hop towards the target. B: stops after hop 1. C: the target's reply, seen at 3 and 2 only.
  const each = (hops: number[], key: number) => {
    for (const h of hops) {
      at(h, key);
      t += 1000;
    }
  };
  each([0, 1, 2, 3], 0xa);
  each([0, 1], 0xb);
  each([3, 2], 0xc);
  at(1, 0xa); // the same packet twice at one hop
  // Far later (past two windows): the same key is a new journey.
  t += 5e9;
  at(0, 0xa);
  const r = m.finish();
  assert.equal(r.journeys, 4);
  assert.equal(r.duplicates, 1);
  assert.deepEqual(r.perHop, [3, 3, 2, 2]);
  const s = segments(r, [0, 1, 2, 3]);
  assert.equal(s.complete, 1);
  assert.deepEqual(s.segments.map((x) => [x.direction, x.lastSeen, x.firstMissing, x.packets]).sort(), [
    ['forward', 0, 1, 1],
    ['forward', 1, 2, 1],
    ['reverse', 2, 1, 1],
  ]);
});

test('four generated hop files: the 1 % lost before the last hop is found, in bounded open journeys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-match-'));
  try {
    const files = [0, 1, 2, 3].map((i) => join(dir, `hop${i}.pcap`));
    const written = generateHops(files, { packets: 40_000, snaplen: 128, rate: 100_000, flows: 2000 });
    const merged = new MergedReaders(files);
    const m = new HopMatcher(4, 0.05e9);
    const d = new Decoded();
    let last = -1;
    for (let i = merged.next(); i >= 0; i = merged.next()) {
      const r = merged.readers[i]!;
      const ts = r.tsSec + r.tsNsec / 1e9;
      assert.ok(ts >= last, 'merged in time order');
      last = ts;
      decode(r.buf, r.dataOff, r.caplen, r.linkType, d, false);
      natFingerprint(d);
      m.add(i, r.tsSec, r.tsNsec, d.natHi, d.natLo);
    }
    merged.close();
    const res = m.finish();
    assert.deepEqual(res.perHop, written);
    const lost = written[0]! - written[3]!;
    assert.ok(lost > 250 && lost < 550, `about 1 % lost (${lost})`);
    const s = segments(res, [0, 1, 2, 3]);
    const top = s.segments[0]!;
    assert.deepEqual([top.direction, top.lastSeen, top.firstMissing], ['forward', 2, 3]);
    // Identical packets (repeated ARP requests) fold into one journey: lost journeys ≤ lost packets.
    assert.ok(top.packets <= lost && top.packets > lost * 0.8, `${top.packets} of ${lost}`);
    // 100k packets/s and a 50 ms window: a few thousand journeys open at once, not 40 000.
    assert.ok(res.peakOpen < 15_000, `peak open ${res.peakOpen}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
