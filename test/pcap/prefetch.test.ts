import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prefetchIfCold } from '../../src/pcap/prefetch.js';

const MIB = 1 << 20;
const openFds = () => readdirSync('/proc/self/fd').length;

/** `p`, or a failure after 10 s (a read-ahead never stopped would otherwise hang the test). */
async function inTime(p: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within 10 s: ${what}`)), 10_000);
  });
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The process's open files back to `n` within 5 s (a piece still being read holds its file). */
async function fdsBackTo(n: number): Promise<void> {
  for (const deadline = Date.now() + 5000; openFds() !== n;) {
    if (Date.now() > deadline) assert.equal(openFds(), n, 'open files');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a cold file is read ahead a window past the parser; stopped, its last pieces are read and it is closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-prefetch-'));
  try {
    const file = join(dir, 'big.pcap');
    const size = 18 * MIB + 5;
    writeFileSync(file, Buffer.alloc(size, 7));
    const before = openFds();
    // Cold (every probe read counts as slow), an 8 MiB window: the first two 4 MiB pieces.
    let done = false;
    let finished!: () => void;
    const closed = new Promise<void>((resolve) => (finished = resolve));
    const p = prefetchIfCold(file, size, {
      coldNs: 0,
      windowBytes: 8 * MIB,
      onDone: () => {
        done = true;
        finished();
      },
    })!;
    assert.ok(p, 'cold: read ahead');
    assert.equal(p.pieces, 2);
    // The parser moves on: the window follows it, up to the end of the file (the last piece short).
    p.ahead(8 * MIB);
    assert.equal(p.pieces, 4);
    p.ahead(13 * MIB);
    assert.equal(p.pieces, 5);
    p.ahead(size);
    assert.equal(p.pieces, 5);
    // Every piece may be read by now, but the file stays open until the parser says it is done.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false);
    p.stop();
    await inTime(closed, 'stopped: closed after its last piece');
    await fdsBackTo(before);
    p.ahead(0);
    assert.equal(p.pieces, 5, 'nothing more once stopped');

    // Stopped early (an error half-way in a large file): only what was queued is read.
    let earlyDone!: () => void;
    const earlyClosed = new Promise<void>((resolve) => (earlyDone = resolve));
    const early = prefetchIfCold(file, size, { coldNs: 0, windowBytes: 4 * MIB, onDone: () => earlyDone() })!;
    assert.equal(early.pieces, 1);
    early.stop();
    early.ahead(12 * MIB);
    assert.equal(early.pieces, 1);
    await inTime(earlyClosed, 'stopped early: closed after its one piece');

    // Warm (no probe read counts as slow): nothing queued, nothing left open.
    assert.equal(prefetchIfCold(file, size, { coldNs: Infinity }), undefined);
    // Under four pieces: never, whatever the probe would say.
    assert.equal(prefetchIfCold(file, 16 * MIB - 1, { coldNs: 0 }), undefined);
    // A file that cannot be opened or read: the parser will say why.
    assert.equal(prefetchIfCold(join(dir, 'missing.pcap'), size, { coldNs: 0 }), undefined);
    assert.equal(prefetchIfCold(dir, size, { coldNs: 0 }), undefined);
    await fdsBackTo(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
