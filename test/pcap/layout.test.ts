import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the pcap engine depends on nothing else in hopdump (only node: modules and its own files)', () => {
  const dir = fileURLToPath(new URL('../../../src/pcap/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8);
  for (const f of files) {
    const src = readFileSync(dir + f, 'utf8');
    for (const m of src.matchAll(/from '([^']+)'/g)) {
      const spec = m[1]!;
      assert.ok(spec.startsWith('node:') || /^\.\/[a-z-]+\.js$/.test(spec), `${f} imports ${spec}`);
    }
  }
});
