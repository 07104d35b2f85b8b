// `hopdump read` against `tcpdump -nn -r` on tcpdump's own test captures (its tests/ folder).
//
//   node dist/scripts/tcpdump-fidelity.js [--repo PATH] [--verbose] [-S] [--tcpdump PATH] [--hopdump PATH]
//
// --repo: a clone of tcpdump's repository, bare (read with git archive HEAD) or checked out (its
// tests/ folder as it is); default: $TCPDUMP_REPO, else the mirror /work/.mirror/the-tcpdump-group+tcpdump/repo.
// Every tests/*.pcap* is read by both tools (TZ=UTC for both: both print the local time of day):
//   - the packet counts must agree per file, and hopdump must not crash (exit 0, or 3 with its
//     one-line error for a malformed file);
//   - the population: the lines of classic-pcap Ethernet (EN10MB) files that tcpdump prints as plain
//     IPv4/IPv6 TCP, UDP, ICMP echo, or a Geneve tunnel (test/helpers/tcpdump-lines.ts
//     lineClass() says exactly which); the figure is the fraction of those where hopdump's line is
//     the same up to and including the first `length N`. The same for pcapng Ethernet files, apart.
// -S: both tools print absolute TCP numbers (tcpdump -S, hopdump read -S).
// --verbose prints every differing pair of lines.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparable, lineClass, mismatchCategory, packetLines, type LineClass } from '../test/helpers/tcpdump-lines.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
const VERBOSE = argv.includes('--verbose');
const ABSOLUTE = argv.includes('-S') ? ['-S'] : [];
const REPO = opt('repo') ?? process.env.TCPDUMP_REPO ?? '/work/.mirror/the-tcpdump-group+tcpdump/repo';
const TCPDUMP = opt('tcpdump') ?? 'tcpdump';
const HOPDUMP = opt('hopdump') ?? join(ROOT, 'bin', 'hopdump');
const ENV = { ...process.env, TZ: 'UTC' };
/** hopdump reads this many files per run (one node start-up each): `==> FILE <==` separates them. */
const BATCH = 100;

function die(msg: string): never {
  process.stderr.write(`tcpdump-fidelity: ${msg}\n`);
  process.exit(2);
}

/** tests/*.pcap* of the repository into dir; returns the file names and the commit. */
function extract(repo: string, dir: string): { files: string[]; commit: string } {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    // not a git directory: a plain copy of the tests
  }
  const testsDir = join(repo, 'tests');
  if (existsSync(testsDir) && statSync(testsDir).isDirectory()) {
    const files = readdirSync(testsDir).filter((f) => /\.pcap/.test(f) && statSync(join(testsDir, f)).isFile());
    return { files: files.sort().map((f) => join(testsDir, f)), commit };
  }
  if (commit === 'unknown') die(`${repo}: neither a checkout with tests/ nor a git repository`);
  const tar = execFileSync('git', ['-C', repo, 'archive', '--format=tar', 'HEAD', 'tests'], {
    maxBuffer: 1 << 30,
  });
  execFileSync('tar', ['-x', '-C', dir, '--wildcards', 'tests/*.pcap*'], {
    input: tar,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const files = readdirSync(join(dir, 'tests')).filter((f) => /\.pcap/.test(f));
  return { files: files.sort().map((f) => join(dir, 'tests', f)), commit };
}

function format(file: string): 'pcap' | 'pcapng' | 'other' {
  const b = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  const n = readSync(fd, b, 0, 4, 0);
  closeSync(fd);
  if (n < 4) return 'other';
  const m = b.readUInt32BE(0);
  if (m === 0x0a0d0d0a) return 'pcapng';
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(m)) return 'pcap';
  return 'other';
}

interface TcpdumpResult {
  lines: string[];
  linkType: string;
  status: number | null;
  /** tcpdump --count when the lines starting with a time are not one per packet. */
  count: number;
}

function runTcpdump(file: string): TcpdumpResult {
  const r = spawnSync(TCPDUMP, ['-nn', ...ABSOLUTE, '-r', file], { env: ENV, encoding: 'latin1', maxBuffer: 1 << 28 });
  if (r.error) die(`cannot run ${TCPDUMP}: ${r.error.message}`);
  const linkType = /link-type (\S+)/.exec(r.stderr)?.[1] ?? '?';
  return { lines: packetLines(r.stdout), linkType, status: r.status, count: -1 };
}

function tcpdumpCount(file: string): number {
  const r = spawnSync(TCPDUMP, ['--count', '-r', file], { env: ENV, encoding: 'latin1' });
  return Number(/^(\d+) packets?/m.exec(r.stdout)?.[1] ?? -1);
}

interface HopdumpResult {
  lines: string[];
  /** 'ok', 'error' (exit 3 with a one-line message: a malformed file), 'crash' (anything else). */
  outcome: 'ok' | 'error' | 'crash';
  message: string;
}

/**
 * Runs `hopdump read` on files[from..] in batches; a run that stops early (a malformed or crashing
 * file) resumes after the file that stopped it, which is found by reading it alone.
 */
function runHopdump(files: string[]): HopdumpResult[] {
  const results: HopdumpResult[] = [];
  const one = (file: string): HopdumpResult => {
    const r = spawnSync(HOPDUMP, ['read', ...ABSOLUTE, file], { env: ENV, encoding: 'latin1', maxBuffer: 1 << 28 });
    const lines = r.stdout.split('\n').filter((l) => l.length > 0);
    if (r.status === 2) die(`hopdump read: usage error: ${r.stderr.trim()}`);
    const outcome = r.status === 0 ? 'ok' : r.status === 3 && !/internal error/.test(r.stderr) ? 'error' : 'crash';
    return { lines, outcome, message: `${r.status ?? r.signal} ${r.stderr.trim()}` };
  };
  let i = 0;
  while (i < files.length) {
    const batch = files.slice(i, i + BATCH);
    if (batch.length === 1) {
      results.push(one(batch[0]!));
      i++;
      continue;
    }
    const r = spawnSync(HOPDUMP, ['read', ...ABSOLUTE, ...batch], { env: ENV, encoding: 'latin1', maxBuffer: 1 << 30 });
    const sections: string[][] = [];
    for (const l of r.stdout.split('\n')) {
      const h = /^==> (.*) <==$/.exec(l);
      if (h && h[1] === batch[sections.length]) sections.push([]);
      else if (l.length > 0 && sections.length > 0) sections[sections.length - 1]!.push(l);
    }
    if (r.status === 0 && sections.length === batch.length) {
      for (const s of sections) results.push({ lines: s, outcome: 'ok', message: '' });
      i += batch.length;
      continue;
    }
    // Stopped early: every section but the last is complete; the last (or the next file, if the
    // last read to its end) is the one that stopped the run: read those alone.
    const done = Math.max(0, sections.length - 1);
    for (let k = 0; k < done; k++) results.push({ lines: sections[k]!, outcome: 'ok', message: '' });
    i += done;
    const last = one(files[i]!);
    results.push(last);
    i++;
  }
  return results;
}

interface Tally {
  lines: number;
  equal: number;
  byClass: Map<LineClass, { lines: number; equal: number }>;
}
const newTally = (): Tally => ({ lines: 0, equal: 0, byClass: new Map() });

function main(): void {
  const tmp = mkdtempSync(join(tmpdir(), 'hopdump-fidelity-'));
  try {
    const version = /tcpdump version (\S+)/.exec(
      spawnSync(TCPDUMP, ['--version'], { encoding: 'utf8' }).stdout ?? '',
    )?.[1];
    if (!version) die(`${TCPDUMP} --version: no version (is tcpdump installed?)`);
    const { files, commit } = extract(REPO, tmp);
    if (files.length === 0) die(`${REPO}: no tests/*.pcap* files`);
    process.stderr.write(`reading ${files.length} captures with tcpdump ${version} and hopdump...\n`);
    const hd = runHopdump(files);
    const pop = { pcap: newTally(), pcapng: newTally() };
    const categories = new Map<string, { n: number; example: string }>();
    let countsAgree = 0;
    let crashes = 0;
    let hdErrors = 0;
    let tdErrors = 0;
    let ethFiles = 0;
    const countDiffs: string[] = [];
    const formats = { pcap: 0, pcapng: 0, other: 0 };
    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      const name = basename(file);
      const fmt = format(file);
      formats[fmt]++;
      const td = runTcpdump(file);
      const h = hd[f]!;
      if (td.status !== 0) tdErrors++;
      if (h.outcome === 'crash') {
        crashes++;
        process.stdout.write(`CRASH ${name}: ${h.message}\n`);
      } else if (h.outcome === 'error') hdErrors++;
      let tdCount = td.lines.length;
      if (tdCount !== h.lines.length) tdCount = tcpdumpCount(file);
      const aligned = td.lines.length === h.lines.length;
      if (tdCount === h.lines.length) countsAgree++;
      else countDiffs.push(`${name}: tcpdump ${tdCount}, hopdump ${h.lines.length} (${h.message})`);
      if (td.linkType !== 'EN10MB' || fmt === 'other') continue;
      ethFiles++;
      if (!aligned) continue;
      const tally = pop[fmt];
      for (let k = 0; k < td.lines.length; k++) {
        const t = td.lines[k]!;
        const cls = lineClass(t);
        if (!cls) continue;
        const c = tally.byClass.get(cls) ?? { lines: 0, equal: 0 };
        tally.byClass.set(cls, c);
        tally.lines++;
        c.lines++;
        const hl = h.lines[k];
        if (hl !== undefined && comparable(t) === comparable(hl)) {
          tally.equal++;
          c.equal++;
          continue;
        }
        if (fmt !== 'pcap') continue;
        const cat = mismatchCategory(cls, t, hl);
        const e = categories.get(cat) ?? {
          n: 0,
          example: `${name} #${k + 1}\n      tcpdump: ${t}\n      hopdump: ${hl}`,
        };
        e.n++;
        categories.set(cat, e);
        if (VERBOSE) process.stdout.write(`${name} #${k + 1} [${cat}]\n  tcpdump: ${t}\n  hopdump: ${hl}\n`);
      }
    }
    const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
    const out: string[] = [];
    const S = ABSOLUTE.length ? ' -S' : '';
    out.push(`tcpdump${S} ${version} against hopdump read${S}, TZ=UTC, on ${REPO} tests/ at ${commit}`);
    out.push(
      `files: ${files.length} (${formats.pcap} pcap, ${formats.pcapng} pcapng${formats.other ? `, ${formats.other} other` : ''}), ${ethFiles} Ethernet`,
    );
    out.push(`packet counts agree: ${countsAgree}/${files.length}; hopdump crashes: ${crashes}`);
    out.push(`malformed (error exit): hopdump ${hdErrors}, tcpdump ${tdErrors}`);
    for (const d of countDiffs) out.push(`  count differs: ${d}`);
    for (const fmt of ['pcap', 'pcapng'] as const) {
      const t = pop[fmt];
      out.push(
        `${fmt} Ethernet lines (TCP, UDP, ICMP echo, Geneve): ${t.lines}; equal up to the first length N: ${t.equal} (${pct(t.equal, t.lines)})`,
      );
      for (const [cls, c] of [...t.byClass].sort())
        out.push(`  ${cls}: ${c.equal}/${c.lines} (${pct(c.equal, c.lines)})`);
    }
    out.push('top mismatch categories (pcap Ethernet):');
    const top = [...categories].sort((a, b) => b[1].n - a[1].n).slice(0, VERBOSE ? Infinity : 25);
    for (const [cat, e] of top) out.push(`  ${String(e.n).padStart(5)}  ${cat}\n      e.g. ${e.example}`);
    process.stdout.write(`${out.join('\n')}\n`);
    process.exitCode = crashes > 0 || countDiffs.length > 0 ? 1 : 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main();
