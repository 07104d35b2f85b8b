import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { generateCapture } from '../../bench/pcap/generate.js';
import {
  fileStats,
  PcapReader,
  prefetchIfCold,
  StatsWorkers,
  type ParallelOptions,
  type ReadPlan,
} from '../../src/pcap/index.js';
import { malformedCorpus } from '../helpers/corpus.js';
import { ether, icmpEcho, ipv4 } from '../helpers/frames.js';
import { NgBuilder, pcapBytes } from '../helpers/pcapng.js';

/**
 * `read --stats` on several threads gives what one thread gives, byte for
 * byte: the totals, the distinct fingerprints, the first and last packet, and
 * for a malformed file the same error at the same offset. Parts are forced
 * small here (any file splits); each case also says how the file was read, so
 * a test cannot pass by never using a worker.
 */
const dir = mkdtempSync(join(tmpdir(), 'hopdump-parallel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Outcome = { json: string; text: string; last: string } | { error: string };

async function outcome(file: string, o: ParallelOptions): Promise<{ out: Outcome } & ReadPlan> {
  let plan: ReadPlan = { chunks: 0, byWorkers: 0, sequential: false };
  try {
    const s = await fileStats(file, { ...o, onPlan: (p) => (plan = p) });
    return { out: { json: JSON.stringify(s.toJSON()), text: s.text(), last: s.lastFingerprint() }, ...plan };
  } catch (err) {
    return { out: { error: (err as Error).message }, ...plan };
  }
}

/** Small files cut into two chunks per thread, every chunk but the first left to the workers. */
function forced(file: string, threads: number): ParallelOptions {
  const chunkBytes = Math.max(1, Math.ceil(statSync(file).size / (2 * threads)));
  return { threads, minParallelBytes: 1, minParallelPackets: 0, chunkBytes, mainTakesFirstOnly: true };
}

/** Compares every thread count with one thread; returns the plans seen. */
async function sameAsOneThread(file: string): Promise<ReadPlan[]> {
  const one = await outcome(file, { threads: 1 });
  const plans = [];
  for (const threads of [2, 4]) {
    const { out, ...plan } = await outcome(file, forced(file, threads));
    assert.deepEqual(out, one.out, `${file} on ${threads} threads`);
    plans.push(plan);
  }
  return plans;
}

/** `p`, or a failure after 10 s (a worker left waiting would otherwise hang the test). */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within 10 s: ${what}`)), 10_000);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const frame = (seq: number, data: Buffer) => ether(ipv4({ proto: 1, payload: icmpEcho({ seq, data }) }));

test('generated captures (pcap, pcapng, cut by a snaplen) give the same totals on 2 and 4 threads', async () => {
  const cases: Array<[string, Parameters<typeof generateCapture>[1]]> = [
    ['mix.pcap', { packets: 8_000 }],
    ['mix.pcapng', { packets: 8_000, format: 'pcapng' }],
    ['snap.pcap', { packets: 12_000, snaplen: 96, flows: 300 }],
  ];
  for (const [name, o] of cases) {
    const file = join(dir, name);
    generateCapture(file, o);
    const plans = await sameAsOneThread(file);
    // Every chunk found its boundary and was kept: the workers did the reading.
    assert.deepEqual(plans, [
      { chunks: 4, byWorkers: 3, sequential: false },
      { chunks: 8, byWorkers: 7, sequential: false },
    ]);
  }
});

test('a file estimated to hold fewer packets than minParallelPackets is read on one thread, the same totals', async () => {
  const file = join(dir, 'estimate.pcap');
  generateCapture(file, { packets: 20_000 });
  const one = await outcome(file, { threads: 1 });
  const size = statSync(file).size;
  const base = { threads: 2, minParallelBytes: 1, chunkBytes: Math.ceil(size / 4) };
  // 20 000 packets: under a bound of 30 000, one thread; over a bound of 10 000, the workers read too.
  const few = await outcome(file, { ...base, minParallelPackets: 30_000 });
  assert.deepEqual([few.chunks, few.byWorkers], [1, 0]);
  assert.deepEqual(few.out, one.out);
  const many = await outcome(file, { ...base, minParallelPackets: 10_000, mainTakesFirstOnly: true });
  assert.equal(many.chunks, 4);
  assert.ok(many.byWorkers > 0);
  assert.deepEqual(many.out, one.out);
});

test('workers started before the file is opened (as read does while the engine loads) read its chunks; unneeded ones are dismissed', async () => {
  const file = join(dir, 'early.pcapng');
  generateCapture(file, { packets: 8_000, format: 'pcapng' });
  const one = await outcome(file, { threads: 1 });
  // Used: the plan goes to the waiting workers, which read every chunk but the first.
  const early = StatsWorkers.start(3);
  const used = await outcome(file, { ...forced(file, 3), workers: early });
  assert.deepEqual([used.chunks, used.byWorkers, used.sequential], [6, 5, false]);
  assert.deepEqual(used.out, one.out);
  assert.throws(
    () => early.begin({ path: file, fileSize: 0, cuts: [0], state: undefined!, refSec: 0 }),
    /already begun/,
  );
  // Not used: a file under the bounds is read on one thread and the waiting workers are terminated.
  const spare = StatsWorkers.start(2);
  const exits = spare.exited();
  const alone = await outcome(file, { workers: spare });
  assert.deepEqual([alone.chunks, alone.byWorkers], [1, 0]);
  assert.deepEqual(alone.out, one.out);
  assert.equal((await within(exits, 'the spare worker ended')).length, 1);
  // A file that cannot be opened dismisses them too, and the error is the file's.
  const lost = StatsWorkers.start(2);
  const lostExits = lost.exited();
  await assert.rejects(fileStats(join(dir, 'missing.pcap'), { workers: lost }), /ENOENT/);
  assert.equal((await within(lostExits, 'the spare worker ended')).length, 1);
});

/** Waits until `done()` holds, or fails after 10 s (polling stops either way). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !done();) {
    if (Date.now() > deadline) assert.fail(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a read-ahead given to fileStats follows the parser to the end of the file and is stopped after it, the totals unchanged', async () => {
  const file = join(dir, 'ahead.pcap');
  generateCapture(file, { packets: 45_000 });
  const size = statSync(file).size;
  assert.ok(size * 0.9 > 16 << 20, `a file of more than four pieces, cut too (${size} bytes)`);
  const one = await outcome(file, { threads: 1, prefetch: false });
  let stopped = false;
  // Taken as cold whatever the page cache says, with a 4 MiB window: one piece queued at first.
  const ahead = prefetchIfCold(file, size, { coldNs: 0, windowBytes: 4 << 20, onDone: () => (stopped = true) });
  assert.ok(ahead);
  assert.equal(ahead.pieces, 1);
  const read = await outcome(file, { threads: 1, prefetch: ahead });
  assert.deepEqual(read.out, one.out);
  assert.equal(read.readAhead, true);
  assert.equal(ahead.pieces, Math.ceil(size / (4 << 20)), 'every piece queued as the parser came near it');
  await until(() => stopped, 'the read-ahead was stopped and its file closed');
  // An error half-way stops it too.
  const cut = join(dir, 'ahead-cut.pcap');
  const cutSize = Math.floor(size * 0.9);
  writeFileSync(cut, readFileSync(file).subarray(0, cutSize));
  let cutStopped = false;
  const cutAhead = prefetchIfCold(cut, cutSize, { coldNs: 0, onDone: () => (cutStopped = true) });
  assert.ok(cutAhead);
  const bad = await outcome(cut, { threads: 1, prefetch: cutAhead });
  assert.match('error' in bad.out ? bad.out.error : '', /truncated|cut|offset/i);
  await until(() => cutStopped, 'stopped after the error');
});

test('every malformed input of the corpus gives the same error on several threads', async () => {
  for (const { name, bytes } of malformedCorpus()) {
    const file = join(dir, `corpus-${name.replace(/\W+/g, '-')}.pcap`);
    writeFileSync(file, bytes);
    await sameAsOneThread(file);
  }
});

test('a bad record in the middle or a cut at the end of a large file: the same error, the same offset', async () => {
  const file = join(dir, 'good.pcap');
  generateCapture(file, { packets: 9_000 });
  const bytes = readFileSync(file);
  // An absurd length at a record about two thirds in: found by a worker, reported as one thread would.
  const r = PcapReader.openFile(file);
  let at = 0;
  for (let i = 0; i < 6_000 && r.next(); i++) at = r.recordOffset;
  r.close();
  const bad = Buffer.from(bytes);
  bad.writeUInt32LE(0x7fffffff, at + 8);
  writeFileSync(join(dir, 'bad-middle.pcap'), bad);
  const middle = await outcome(join(dir, 'bad-middle.pcap'), forced(join(dir, 'bad-middle.pcap'), 2));
  assert.match(
    (middle.out as { error: string }).error,
    new RegExp(`record claims 2147483647 captured bytes .* at byte ${at}$`),
  );
  await sameAsOneThread(join(dir, 'bad-middle.pcap'));
  writeFileSync(join(dir, 'cut.pcap'), bytes.subarray(0, bytes.length - 7));
  const cut = await outcome(join(dir, 'cut.pcap'), forced(join(dir, 'cut.pcap'), 2));
  assert.match((cut.out as { error: string }).error, /truncated record/);
  await sameAsOneThread(join(dir, 'cut.pcap'));
});

test('payloads that look like records mislead the guess: the part is read again, the totals stay right', async () => {
  // Each payload is a chain of fake 20-byte records (plausible headers, 4 bytes of data).
  const fake = Buffer.concat(
    Array.from({ length: 12 }, () => {
      const h = Buffer.alloc(20);
      h.writeUInt32LE(1_790_000_000, 0);
      h.writeUInt32LE(4, 8);
      h.writeUInt32LE(4, 12);
      return h;
    }),
  );
  const records = Array.from({ length: 4000 }, (_, i) => ({ data: frame(i, fake), sec: 1_790_000_000, frac: i }));
  const file = join(dir, 'decoy.pcap');
  writeFileSync(file, pcapBytes(records));
  const plans = await sameAsOneThread(file);
  // At least one chunk was misled: the file was read again on the main thread.
  assert.ok(
    plans.some((p) => p.sequential),
    `some guess should have been wrong: ${JSON.stringify(plans)}`,
  );
});

test('a pcapng that declares an interface half-way: the parts after it are read on the main thread', async () => {
  const b = new NgBuilder().shb(true).idb(1);
  for (let i = 0; i < 3000; i++) b.epb(0, BigInt(i) * 1000n, frame(i, Buffer.alloc(64, i)));
  b.idb(1, [[2, 'second']]);
  for (let i = 0; i < 3000; i++) b.epb(i % 2, BigInt(3000 + i) * 1000n, frame(i, Buffer.alloc(64, i)));
  const file = join(dir, 'late-idb.pcapng');
  writeFileSync(file, b.build());
  const plans = await sameAsOneThread(file);
  assert.ok(
    plans.some((p) => p.sequential),
    `the interface block should have stopped some chunk: ${JSON.stringify(plans)}`,
  );
});

test('tunnelled packets are counted by tunnel: Geneve apart from VXLAN (tcpdump test capture)', async () => {
  const file = fileURLToPath(new URL('../../../test/fixtures/tcpdump-tests/geneve.pcap', import.meta.url));
  const s = (await fileStats(file, { threads: 1 })).toJSON() as { protocols: Record<string, number> };
  assert.equal(s.protocols.geneve, 39);
  assert.equal(s.protocols.vxlan, undefined);
});
