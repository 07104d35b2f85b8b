import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { followFile, openSpool, removeStaleSpools } from '../../src/capture/spool.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('followFile: every byte a writer appends, through end-of-file pauses, ending only after the writer is done', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-spool-test-'));
  try {
    const path = join(dir, 'f');
    writeFileSync(path, '');
    let finish!: () => void;
    const writerDone = new Promise<void>((r) => (finish = r));
    const stream = followFile(path, { writerDone, pollMs: 5 });
    const got = collect(stream);
    const expected: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      // Some writes larger than the follower's 1 MiB chunk, most small.
      const b = Buffer.alloc(i % 10 === 3 ? (1 << 20) + 17 : 100 + i, i);
      appendFileSync(path, b);
      expected.push(b);
      await sleep(i % 3 === 0 ? 20 : 0);
    }
    // The stream must not end at end-of-file while the writer still runs.
    const early = await Promise.race([got.then(() => 'ended'), sleep(100).then(() => 'waiting')]);
    assert.equal(early, 'waiting');
    const last = Buffer.from('the last bytes, written just before the writer ends');
    appendFileSync(path, last);
    expected.push(last);
    finish();
    assert.ok((await got).equals(Buffer.concat(expected)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('followFile: maxBytes calls back once when the file grows past it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-spool-test-'));
  try {
    const path = join(dir, 'f');
    writeFileSync(path, Buffer.alloc(5000));
    let calls = 0;
    const stream = followFile(path, { writerDone: Promise.resolve(), maxBytes: 4096, onMaxBytes: () => calls++ });
    assert.equal((await collect(stream)).length, 5000);
    assert.equal(calls, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openSpool: a private directory (0700) named for this pid, files 0600 created once, all removed', async () => {
  const spool = await openSpool();
  try {
    assert.match(spool.dir, new RegExp(`hopdump-spool-${process.pid}-`));
    assert.equal(statSync(spool.dir).mode & 0o777, 0o700);
    const f = await spool.create('hop-0.pcap');
    closeSync(f.fd);
    assert.equal(statSync(f.path).mode & 0o777, 0o600);
    await assert.rejects(spool.create('hop-0.pcap'), /EEXIST/);
    await assert.rejects(spool.create('../escape'), /bad spool file name/);
  } finally {
    await spool.remove();
  }
  assert.equal(existsSync(spool.dir), false);
});

test('removeStaleSpools: removes the spool of a hopdump that is gone, keeps a running one and other files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hd-spool-root-'));
  try {
    const gone = spawnSync('true').pid;
    mkdirSync(join(root, `hopdump-spool-${gone}-abc`));
    writeFileSync(join(root, `hopdump-spool-${gone}-abc`, 'hop-0.pcap'), 'x');
    mkdirSync(join(root, `hopdump-spool-${process.ppid}-def`));
    writeFileSync(join(root, 'hopdump-spool-notapid'), 'x');
    const removed = await removeStaleSpools(root);
    assert.deepEqual(removed, [join(root, `hopdump-spool-${gone}-abc`)]);
    assert.ok(existsSync(join(root, `hopdump-spool-${process.ppid}-def`)));
    assert.ok(existsSync(join(root, 'hopdump-spool-notapid')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
