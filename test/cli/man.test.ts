import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/command.js';
import { commands, COMMANDS } from '../../src/cli/commands.js';
import { manPages, roffEscape } from '../../src/cli/man.js';
import { OPTION_TOKEN, parseSynopsis, parseUsage } from '../../src/cli/usage.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function help(args: string[]): Promise<string> {
  let out = '';
  const io: CliIO = { stdout: (t) => void (out += t), stderr: () => undefined, isTTY: false };
  assert.equal(await run([...args, '--help'], io), 0);
  return out;
}

/** A page's text as a reader sees the words: fonts and escapes of roffEscape undone. */
function plain(roff: string): string {
  return roff
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\&/g, '')
    .replace(/\\e/g, '\\');
}

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program]).status === 0;
}

test('every command that --help lists has a page, and hopdump(1) names them all; hidden ones have none', async () => {
  const pages = await manPages();
  const visible = (await commands()).map((c) => c.name);
  assert.deepEqual(pages.map((p) => p.name).sort(), ['hopdump.1', ...visible.map((n) => `hopdump-${n}.1`)].sort());
  assert.ok(COMMANDS.some((c) => c.name === '__complete') && !visible.includes('__complete'));
  const overview = plain(pages.find((p) => p.name === 'hopdump.1')!.text);
  for (const n of visible) assert.match(overview, new RegExp(`hopdump-${n} ?\\(1\\)`), n);
  for (const v of ['HOPDUMP_RUNS', 'DOCKER_HOST', 'OVS_RUNDIR', 'LIBVIRT_DEFAULT_URI', 'PATH', '/var/lib/hopdump/runs'])
    assert.ok(overview.includes(v), v);
  assert.ok(!(await help([])).includes('__complete'), 'hopdump --help does not list __complete');
});

test("every option in a command's --help is in its man page, and in hopdump(1) the top help's", async () => {
  const pages = new Map((await manPages()).map((p) => [p.name, plain(p.text)]));
  const missing: string[] = [];
  const checks: Array<[string, string[]]> = [
    ['hopdump.1', []],
    ...(await commands()).map((c): [string, string[]] => [`hopdump-${c.name}.1`, [c.name]]),
  ];
  for (const [page, args] of checks) {
    const text = pages.get(page)!;
    const tokens = new Set((await help(args)).match(OPTION_TOKEN) ?? []);
    assert.ok(tokens.size > 0 || page === 'hopdump-lab.1', `${page}: options found in --help`);
    for (const t of tokens) if (!new RegExp(`(?<![\\w-])${t}(?![\\w-])`).test(text)) missing.push(`${page}: ${t}`);
  }
  assert.deepEqual(missing, []);
});

test('the options each command parses (its parseArgs table) are all in its usage synopsis', async () => {
  // The synopsis is the one list the man page and the completion scripts are made from.
  const usage = new Map((await commands()).map((c) => [c.name, c.usage]));
  const missing: string[] = [];
  for (const file of readdirSync(join(ROOT, 'src/cli')).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(ROOT, 'src/cli', file), 'utf8');
    const name = /name: '([a-z]+)',\s*summary: summaryOf/.exec(text)?.[1];
    if (!name || !usage.has(name)) continue;
    const declared = [...text.matchAll(/(?:^\s+|[{,]\s*)'?([\w-]+)'?: \{ type: '(?:string|boolean)'([^}]*)\}/gm)].map(
      (m) => {
        const short = /short: '(\w)'/.exec(m[2]!)?.[1];
        return short ? `-${short}` : `--${m[1]}`;
      },
    );
    assert.ok(declared.length > 0 || name === 'completion', `${file}: options found`);
    const inSynopsis = new Set(
      parseUsage(usage.get(name)!).synopses.flatMap((s) => parseSynopsis(s).options.map((o) => o.name)),
    );
    for (const d of declared) if (!inSynopsis.has(d)) missing.push(`${name}: ${d}`);
  }
  assert.deepEqual(missing, []);
});

test('roff escaping: backslashes, hyphens, leading dots and quotes, non-ASCII', async () => {
  assert.equal(roffEscape('a\\b --x é'), 'a\\eb \\-\\-x \\[u00E9]');
  const { commandPage } = await import('../../src/cli/man.js');
  const page = commandPage({
    name: 'x',
    summary: 'a test',
    usage: "usage: hopdump x [--y N]\n\n.starts with a dot\n'and a quote\n\n  --y N   the \\ value\n",
  });
  assert.ok(page.includes('\n\\&.starts with a dot\n'), page);
  assert.ok(page.includes("\n\\&'and a quote\n"), page);
  assert.ok(page.includes('\\fB\\-\\-y\\fR \\fIN\\fR'), page);
  assert.ok(page.includes('the \\e value'), page);
});

test('groff -man -ww renders every page without a warning; man -l renders them; scripts/gen-man.mjs writes them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-man-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-man.mjs'), dir]);
    const pages = await manPages();
    assert.deepEqual(readdirSync(dir).sort(), pages.map((p) => p.name).sort());
    for (const p of pages) assert.equal(readFileSync(join(dir, p.name), 'utf8'), p.text);
    if (!onPath('groff')) return t.skip('groff is not installed (Debian: groff-base)');
    for (const p of pages) {
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(dir, p.name)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${p.name}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${p.name}: groff warns: ${r.stderr}`);
    }
    if (onPath('man')) {
      const r = spawnSync('man', ['-l', join(dir, 'hopdump-diagnose.1')], {
        encoding: 'utf8',
        env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /--target T/);
      assert.match(r.stdout, /EXIT STATUS/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
