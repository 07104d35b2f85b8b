import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateHops } from '../../bench/pcap/generate.js';
import { analyze, type AnalyzeOptions } from '../../src/analyze/analyze.js';
import { Decoded, decode, fastNatFingerprint, PcapngWriter, PcapReader } from '../../src/pcap/index.js';
import { aboutTarget, aboutTargetIPv4Frame, ipv4Number } from '../../src/analyze/target.js';
import { ether, icmpEcho, ipv4 } from '../helpers/frames.js';
import { pcapBytes } from '../helpers/pcapng.js';

/**
 * analyze's second pass on two threads (a decoding worker, the merge and the
 * matcher on the main thread) gives the report one thread gives, and the same
 * one-line error for a broken file. Each case also checks the second thread
 * ran, so a test cannot pass by never starting it.
 */
const dir = mkdtempSync(join(tmpdir(), 'hopdump-an-threads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(o: Omit<AnalyzeOptions, 'version' | 'threads'>, threads: number): Promise<string> {
  let used = 0;
  try {
    const report = await analyze({ ...o, version: 'test', threads, onThreads: (n) => (used = n) });
    assert.equal(used, threads, 'the pass ran on the threads asked for');
    const { startedAt: _s, timing: _t, ...rest } = report;
    return JSON.stringify(rest);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

async function same(o: Omit<AnalyzeOptions, 'version' | 'threads'>): Promise<string> {
  const one = await run(o, 1);
  const two = await run(o, 2);
  assert.equal(two, one);
  return one;
}

test('four generated hop files, one losing packets: the same report on two threads', async () => {
  const files = [0, 1, 2, 3].map((i) => join(dir, `hop${i}.pcap`));
  generateHops(files, { packets: 25_000, snaplen: 128, rate: 100_000, flows: 2000 });
  const out = await same({ files, order: 'given', target: '192.0.2.10', settleSeconds: 0.2 });
  assert.match(out, /all traffic in the files: \d+ distinct packets/);
  assert.match(out, /stopped on the way/);
});

test("target packets whose bytes overflow a batch's share: carried to the next batch, nothing lost", async () => {
  // Every packet is the target's and 1400 bytes long: batches end on their bytes, not their count.
  const frames = (n: number, ttl: number) =>
    Array.from({ length: n }, (_, i) => ({
      data: ether(
        ipv4({
          proto: 1,
          src: '198.51.100.7',
          dst: '192.0.2.10',
          ttl,
          id: i,
          payload: icmpEcho({ seq: i, data: Buffer.alloc(1372, i) }),
        }),
      ),
      sec: 1_790_000_000 + Math.floor(i / 1000),
      frac: (i % 1000) * 1000 + (64 - ttl),
    }));
  const a = join(dir, 'big-a.pcap');
  const b = join(dir, 'big-b.pcap');
  writeFileSync(a, pcapBytes(frames(3000, 64)));
  writeFileSync(b, pcapBytes(frames(3000, 63).filter((_, i) => i % 10 !== 0)));
  const out = await same({ files: [a, b], order: 'given', target: '192.0.2.10', settleSeconds: 0.5 });
  assert.match(out, /"toTarget":3000/);
  assert.match(out, /"toTarget":2700/);
});

test('an interface declared late is left off the path the same way on two threads', async () => {
  const f = join(dir, 'late.pcapng');
  const w = new PcapngWriter(f);
  w.section({});
  w.addInterface({ linkType: 1, name: 'first' });
  const ping = (i: number, dst: string) =>
    ether(ipv4({ proto: 1, src: '198.51.100.7', dst, id: i & 0xffff, payload: icmpEcho({ seq: i & 0xffff }) }));
  // Other traffic first (more than the first pass looks at), then the late interface and the target's.
  const other = ping(0, '203.0.113.5');
  for (let i = 0; i < 201_000; i++) w.packet(0, BigInt(1_790_000_000_000_000 + i * 1000), other, other.length);
  w.addInterface({ linkType: 1, name: 'late' });
  for (let i = 0; i < 1000; i++) {
    const p = ping(i, '192.0.2.10');
    w.packet(i % 2, BigInt(1_790_000_400_000_000 + i * 1000), p, p.length);
  }
  w.close();
  const out = await same({ files: [f], order: 'given', target: '192.0.2.10' });
  assert.match(out, /500 packets on interfaces that first appeared late/);
});

test('a bad record half-way through one file: the same one-line error on two threads', async () => {
  const files = [0, 1].map((i) => join(dir, `bad${i}.pcap`));
  // Large enough that the first pass (200,000 packets) stops before the bad record.
  generateHops(files, { packets: 110_000, snaplen: 64, rate: 100_000, flows: 500 });
  const r = PcapReader.openFile(files[1]!);
  let at = 0;
  for (let i = 0; i < 105_000 && r.next(); i++) at = r.recordOffset;
  r.close();
  const bytes = readFileSync(files[1]!);
  const bad = Buffer.from(bytes);
  bad.writeUInt32LE(0x7fffffff, at + 8);
  writeFileSync(files[1]!, bad);
  const out = await same({ files, order: 'given', target: '192.0.2.10' });
  assert.match(out, new RegExp(`^error: .*bad1\\.pcap: record claims 2147483647 captured bytes .* at byte ${at}$`));
  writeFileSync(files[1]!, bytes.subarray(0, at + 20));
  const cut = await same({ files, order: 'given', target: '192.0.2.10' });
  assert.match(cut, /truncated record/);
});

test('the target test from the bytes of a fast-path frame agrees with the one on the decoded packet', () => {
  const file = join(dir, 'mix-target.pcap');
  generateHops([file], { packets: 20_000, snaplen: 100, flows: 300 });
  const r = PcapReader.openFile(file);
  const d = new Decoded();
  const nat = { natHi: 0, natLo: 0 };
  let n = 0;
  try {
    while (r.next()) {
      if (fastNatFingerprint(r.buf, r.dataOff, r.caplen, nat) < 0) continue;
      decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
      const src = r.buf.readUInt32BE(r.dataOff + 26);
      for (const t4 of [src, r.buf.readUInt32BE(r.dataOff + 30), ipv4Number('192.0.2.10'), 1]) {
        for (const v6 of [false, true])
          assert.equal(aboutTargetIPv4Frame(r.buf, r.dataOff, t4, v6), aboutTarget(d, t4, v6));
      }
      n++;
    }
  } finally {
    r.close();
  }
  assert.ok(n > 10_000, `${n} fast-path frames`);
});
