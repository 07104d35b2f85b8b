import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layers of docs/architecture.md, as import rules: each folder of src/ may import its own
 * files, the root files (errors.ts, version.ts) and the folders listed here, nothing else. Static
 * imports, re-exports and dynamic import() all count. The pcap engine and util/ are leaves that
 * import only node: modules; model/ only zod.
 */
const LAYERS: Record<string, string[]> = {
  util: [],
  pcap: [],
  model: [],
  host: ['util'],
  collect: ['host', 'model', 'util'],
  path: ['model', 'util'],
  capture: ['host', 'collect', 'model', 'pcap', 'util'],
  correlate: ['model', 'path', 'pcap', 'util'],
  checks: ['model', 'path', 'correlate', 'util'],
  verdict: ['model', 'correlate', 'util'],
  report: ['model', 'pcap', 'util'],
  diagnose: ['host', 'collect', 'model', 'path', 'capture', 'pcap', 'correlate', 'checks', 'verdict', 'util'],
  analyze: ['model', 'path', 'pcap', 'correlate', 'checks', 'verdict', 'util'],
  lab: ['host', 'model', 'util'],
  watch: ['host', 'collect', 'model', 'path', 'capture', 'diagnose', 'report', 'util'],
  serve: ['host', 'collect', 'model', 'path', 'capture', 'diagnose', 'report', 'watch', 'util'],
  cli: ['*'],
};
/** Packages a leaf may import besides node: modules. */
const LEAF_PACKAGES: Record<string, string[]> = { util: [], pcap: [], model: ['zod'] };
const ROOT_FILES = ['embedded.ts', 'errors.ts', 'version.ts'];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier of a file: import/export ... from '...', import '...', import('...'). */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

test('every folder of src/ has a layer rule, and every layer exists', () => {
  const folders = readdirSync(SRC).filter((f) => statSync(join(SRC, f)).isDirectory());
  assert.deepEqual(folders.sort(), Object.keys(LAYERS).sort());
  const rootFiles = readdirSync(SRC).filter((f) => f.endsWith('.ts'));
  assert.deepEqual(rootFiles.sort(), ROOT_FILES);
});

test('the specifier scan sees static, re-exported and dynamic imports', () => {
  assert.deepEqual(
    specifiers(
      "import { a } from '../x/a.js';\nexport * from './b.js';\nconst m = await import('../y/c.js');\nimport 'side';",
    ),
    ['../x/a.js', './b.js', 'side', '../y/c.js'],
  );
});

for (const [layer, allowed] of Object.entries(LAYERS)) {
  test(`layer ${layer} imports only ${allowed.length ? allowed.join(', ') : 'itself'} (and the root files)`, () => {
    const bad: string[] = [];
    for (const file of filesUnder(join(SRC, layer))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const where = relative(SRC, file);
        if (!spec.startsWith('.')) {
          const leaf = LEAF_PACKAGES[layer];
          if (leaf && !spec.startsWith('node:') && !leaf.includes(spec)) bad.push(`${where} imports package ${spec}`);
          continue;
        }
        const target = relative(SRC, join(file, '..', spec));
        if (target.startsWith('..')) {
          bad.push(`${where} imports ${spec}, outside src/`);
          continue;
        }
        const top = target.split('/')[0]!;
        if (!target.includes('/')) {
          if (!ROOT_FILES.includes(top.replace(/\.js$/, '.ts'))) bad.push(`${where} imports ${spec}`);
          if (LEAF_PACKAGES[layer] && layer !== 'util' && layer !== 'model')
            bad.push(`${where} (a leaf) imports ${spec}`);
          continue;
        }
        if (top === layer || allowed.includes('*') || allowed.includes(top)) continue;
        bad.push(`${where} imports ${spec} (layer ${top})`);
      }
    }
    assert.deepEqual(bad, []);
  });
}
