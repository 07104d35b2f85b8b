#!/usr/bin/env node
// dist/bundle/: the CLI as a few ES modules instead of ~200 (`make build` runs this after tsc;
// bin/hopdump loads it when it is newer than the last tsc build, dist/src otherwise).
//
// Why: Node 20 spends about half a millisecond per ES module it loads (resolve, read, compile,
// link), and `hopdump read` loads ~40 of them: the pcap engine alone took 15 ms to import from
// dist/src, 5 ms as one file. `read --stats` of a 10-packet file went from 63 to 53 ms (median
// of 20, development machine; docs/pcap.md "Start-up"). Commands stay lazily loaded: esbuild's
// code splitting makes each command's dynamic import a chunk of its own.
//
// The files that code finds beside itself through import.meta.url keep their names and their
// depth (dist/X/Y.js, as dist/src/Y.js... resolves to the same places): the worker threads'
// scripts (stats-worker.js, decode-worker.js) and watch's TCP agent are entry points of their own
// here, package.json is two levels up from both, and npm packages stay in node_modules (external).
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
rmSync(out, { recursive: true, force: true });
await esbuild.build({
  entryPoints: {
    main: join(root, 'dist/src/cli/main.js'),
    'stats-worker': join(root, 'dist/src/pcap/stats-worker.js'),
    'decode-worker': join(root, 'dist/src/analyze/decode-worker.js'),
    'tcp-agent': join(root, 'dist/src/watch/tcp-agent.js'),
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
