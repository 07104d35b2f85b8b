#!/usr/bin/env node
// `make exe`: the single executable, release/hopdump-linux-ARCH (docs/install.md).
//
// 1. esbuild bundles dist/src/cli/exe.js (the CLI and everything it loads) into one CommonJS
//    script, and each worker thread's entry into its own script;
// 2. those worker scripts, the version and the serve page's vendored scripts become assets of a
//    Node single executable application blob (node --experimental-sea-config);
// 3. postject injects the blob into the official Node binary of the same version for the target
//    architecture, from the npm registry (package node-linux-ARCH, cached; its integrity is
//    checked by npm).
//
// Usage: node scripts/build-exe.mjs [--arch x64|arm64]... (default: x64; arm64 too with
// --arch arm64). Native add-ons (ssh2's optional sshcrypto and cpu-features, which dockerode pulls
// in) are left out: ssh2 falls back to its JavaScript code, as it does when they failed to build.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const esbuild = require('esbuild');
// Node's fuse for single executable applications (its documentation names it).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const arches = process.argv.flatMap((a, i, all) => (a === '--arch' ? [all[i + 1]] : []));
if (arches.length === 0) arches.push('x64');
for (const a of arches) if (a !== 'x64' && a !== 'arm64') throw new Error(`--arch ${a}: x64 or arm64`);

const release = join(root, 'release');
const build = join(release, 'build');
rmSync(build, { recursive: true, force: true });
mkdirSync(build, { recursive: true });
if (!existsSync(join(root, 'dist/src/cli/exe.js'))) throw new Error('dist/ is not built: run make build');

/**
 * bin/hopdump starts node with --max-semi-space-size=2: the per-packet loops allocate little and a
 * larger young generation only grows the resident set (analyze on 4 × 10 M packets: 126 MB with it,
 * 160 MB without). An executable takes no node flags and that one is read only when the heap is set
 * up; --semi-space-growth-factor=1 is read whenever the young generation would grow, so set as the
 * bundle's first statement (before any module's code, whose start-up already grew it) it keeps the
 * young generation at its initial 1 MB semi-spaces: 128 MB for the same analyze (docs/install.md).
 */
const YOUNG_GENERATION = 'require("node:v8").setFlagsFromString("--semi-space-growth-factor=1");';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  // A CommonJS bundle has no import.meta: the code's few uses build file URLs (worker scripts, the
  // version file) that the executable takes from its assets instead; they get the executable's.
  define: { 'import.meta.url': '__hopdumpModuleUrl' },
  banner: { js: `${YOUNG_GENERATION}\nvar __hopdumpModuleUrl = require("node:url").pathToFileURL(__filename).href;` },
  // Native add-ons cannot be embedded; both are optional to ssh2 (try/require), as supports-color is
  // to debug (not installed): in the bundle they are modules that throw when loaded, so ssh2 takes
  // its JavaScript code and debug its plain output. Left as run-time requires, they would also make
  // Node print a warning about the executable's require() (built-in modules only).
  plugins: [
    {
      name: 'no-native-add-ons',
      setup(b) {
        b.onResolve({ filter: /\.node$|^cpu-features$|^supports-color$/ }, (a) => ({
          path: a.path,
          namespace: 'no-native',
        }));
        b.onLoad({ filter: /.*/, namespace: 'no-native' }, (a) => ({
          contents: `throw new Error(${JSON.stringify(`${a.path}: native add-ons are not in the single executable`)});`,
          loader: 'js',
        }));
      },
    },
  ],
  legalComments: 'none',
  // Smaller and faster to start (the identifiers stay: stack traces with --debug remain readable).
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
};

const main = await esbuild.build({
  ...common,
  entryPoints: [join(root, 'dist/src/cli/exe.js')],
  outfile: join(build, 'hopdump.cjs'),
});
/** Every require() left in a bundle must name a built-in module: the executable can load no other. */
function onlyBuiltins(file) {
  const builtins = new Set(builtinModules);
  const left = [...readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)]
    .map((m) => m[1])
    .filter((id) => !id.startsWith('node:') && !builtins.has(id));
  if (left.length) throw new Error(`${file}: requires of non-built-in modules left: ${[...new Set(left)].join(', ')}`);
}
onlyBuiltins(join(build, 'hopdump.cjs'));

const workers = ['dist/src/pcap/stats-worker.js', 'dist/src/analyze/decode-worker.js'];
const metas = [main.metafile];
for (const w of workers) {
  const r = await esbuild.build({ ...common, entryPoints: [join(root, w)], outfile: join(build, w.split('/').pop()) });
  onlyBuiltins(join(build, w.split('/').pop()));
  metas.push(r.metafile);
}

// The vendored scripts of serve's page, under the names the page asks for (src/serve/page.ts).
const { VENDORED_SCRIPTS } = await import(new URL('../dist/src/serve/page.js', import.meta.url).href);
const assets = { version: join(build, 'version') };
writeFileSync(assets.version, `${pkg.version}\n`);
for (const w of workers) assets[w.split('/').pop()] = join(build, w.split('/').pop());
for (const [name, module] of Object.entries(VENDORED_SCRIPTS)) assets[name] = require.resolve(module);

// The licences of every npm package inside the executable (shipped beside it and in the .deb).
const packages = new Map();
for (const m of metas)
  for (const input of Object.keys(m.inputs)) {
    const at = input.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const rest = input.slice(at + 'node_modules/'.length).split('/');
    const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    packages.set(name, join(root, input.slice(0, at), 'node_modules', name));
  }
for (const module of Object.values(VENDORED_SCRIPTS)) {
  const name = module.split('/')[0];
  packages.set(name, join(root, 'node_modules', name));
}
const notices = [`hopdump ${pkg.version} bundles the following npm packages and Node.js ${process.version}.\n`];
for (const [name, dir] of [...packages].sort()) {
  const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.|$)/i.test(f));
  notices.push(
    `\n${'='.repeat(72)}\n${name} ${p.version} (${typeof p.license === 'string' ? p.license : 'see below'})\n${'='.repeat(72)}\n`,
    file
      ? readFileSync(join(dir, file), 'utf8')
      : `(no licence file in the package; package.json says ${JSON.stringify(p.license)})\n`,
  );
}
writeFileSync(join(release, 'THIRD-PARTY-NOTICES'), notices.join(''));

/** The official Node binary of this version for `arch`, from the npm registry (cached). */
function nodeBinary(arch) {
  const cache = join(process.env.HOPDUMP_CACHE ?? '/var/cache/hopdump', 'node', `${process.version}-linux-${arch}`);
  const bin = join(cache, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const spec = `node-linux-${arch}@${process.version.slice(1)}`;
  process.stderr.write(`fetching ${spec} from the npm registry\n`);
  const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', cache], { encoding: 'utf8' });
  const tgz = join(cache, out.trim().split('\n').pop());
  execFileSync('tar', ['-xzf', tgz, '-C', cache]);
  rmSync(tgz);
  if (!existsSync(bin)) throw new Error(`${spec}: no package/bin/node in the package`);
  return bin;
}

for (const arch of arches) {
  const native = arch === process.arch;
  const blob = join(build, `hopdump-${arch}.blob`);
  const config = join(build, `sea-config-${arch}.json`);
  writeFileSync(
    config,
    JSON.stringify(
      {
        main: join(build, 'hopdump.cjs'),
        output: blob,
        disableExperimentalSEAWarning: true,
        // The code cache is V8's for this machine's architecture: only where it will run.
        useCodeCache: native,
        assets,
      },
      null,
      2,
    ),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = join(release, `hopdump-linux-${arch}`);
  rmSync(out, { force: true });
  copyFileSync(nodeBinary(arch), out);
  chmodSync(out, 0o755);
  // postject's own command line, in a child: its ELF library prints harmless warnings about the
  // binary's note sections, shown only if the injection fails.
  try {
    execFileSync(
      process.execPath,
      [require.resolve('postject/dist/cli.js'), out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
      { stdio: 'pipe' },
    );
  } catch (err) {
    process.stderr.write(String(err.stderr ?? ''));
    throw new Error(`postject failed on ${out}`, { cause: err });
  }
  process.stdout.write(`${relative(root, out)}\n`);
}
