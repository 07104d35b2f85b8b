#!/usr/bin/env node
// Writes the man pages (hopdump.1, hopdump-COMMAND.1; roff, not compressed) to OUTDIR, made from
// the same usage texts as --help (dist/src/cli/man.js: run `make build` first). `make man` writes
// them to release/man; the Debian package runs `node scripts/gen-man.mjs DIR`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [outdir, ...extra] = process.argv.slice(2);
if (!outdir || extra.length) {
  process.stderr.write('usage: node scripts/gen-man.mjs OUTDIR\n');
  process.exit(2);
}
const man = new URL('../dist/src/cli/man.js', import.meta.url);
if (!existsSync(man)) {
  process.stderr.write('gen-man: dist/src/cli/man.js is not built: run `make build` first\n');
  process.exit(3);
}
const { manPages } = await import(man.href);
const dir = resolve(outdir);
mkdirSync(dir, { recursive: true });
const pages = await manPages();
for (const page of pages) writeFileSync(join(dir, page.name), page.text);
process.stdout.write(`gen-man: ${dir}: ${pages.map((p) => p.name).join(' ')}\n`);
