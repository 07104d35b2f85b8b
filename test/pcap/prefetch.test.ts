import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prefetchIfCold } from '../../src/pcap/prefetch.js';

const openFds = () => readdirSync('/proc/self/fd').length;

test('a cold file is read ahead in 4 MiB pieces and closed once they are all read; a warm or small one is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-prefetch-'));
  try {
    const file = join(dir, 'big.pcap');
    const size = 18 * (1 << 20) + 5;
    writeFileSync(file, Buffer.alloc(size, 7));
    const before = openFds();
    // Cold (every probe read counts as slow): 5 pieces, the last one short.
    let done = false;
    const finished = new Promise<void>((resolve) => {
      const p = prefetchIfCold(file, size, {
        coldNs: 0,
        onDone: () => {
          done = true;
          resolve();
        },
      });
      assert.deepEqual(p, { pieces: 5 });
    });
    assert.equal(done, false, 'the pieces are read in the background');
    await finished;
    assert.equal(openFds(), before, 'the file is closed after its last piece');
    // Warm (no probe read counts as slow): nothing queued, nothing left open.
    assert.equal(prefetchIfCold(file, size, { coldNs: Infinity }), undefined);
    assert.equal(openFds(), before);
    // Under four pieces: never, whatever the probe would say.
    assert.equal(prefetchIfCold(file, (16 << 20) - 1, { coldNs: 0 }), undefined);
    // A file that cannot be opened: the read itself will say why.
    assert.equal(prefetchIfCold(join(dir, 'missing.pcap'), size, { coldNs: 0 }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
