// The conditions a benchmark figure is measured under, set and checked: a file's pages in the
// page cache (warm) or not (cold), and the machine it ran on.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Below this share of its pages in the page cache a file is not warm. */
export const WARM_MIN = 0.99;
/** Above this share after dropping, a file is not cold. */
export const COLD_MAX = 0.02;

/**
 * `fincore -b -n -r -o RES,SIZE FILE...`: one line per file, resident bytes then size, both in
 * bytes (RES counts whole pages, so it can exceed the size by up to a page). Returns the share of
 * each file in the page cache, 0..1, in the order given.
 */
export function parseFincore(out: string): number[] {
  const rows = out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return rows.map((l) => {
    const m = /^(\d+)\s+(\d+)(\s|$)/.exec(l);
    if (!m) throw new Error(`fincore: unexpected line: ${l}`);
    const res = Number(m[1]);
    const size = Number(m[2]);
    return size === 0 ? 1 : Math.min(1, res / size);
  });
}

/** The share of each file's pages in the page cache (fincore, util-linux). */
export function residency(files: string[]): number[] {
  const out = execFileSync('fincore', ['-b', '-n', '-r', '-o', 'RES,SIZE', ...files], { encoding: 'utf8' });
  const shares = parseFincore(out);
  if (shares.length !== files.length) throw new Error(`fincore: ${shares.length} lines for ${files.length} files`);
  return shares;
}

/** Reads the files once so that their pages are cached. */
export function warmUp(files: string[]): void {
  for (const f of files) execFileSync('dd', [`if=${f}`, 'of=/dev/null', 'bs=1M', 'status=none']);
}

/**
 * Drops the files' pages from the page cache: `dd iflag=nocache count=0` is posix_fadvise
 * DONTNEED on the whole file, which touches no other file's cache (unlike drop_caches). Dirty
 * pages (a file just generated) are not dropped, so the file is synced first (`sync FILE`, an
 * fsync: nothing to do for a file long written). Returns the residency measured afterwards.
 */
export function dropCache(files: string[]): number[] {
  for (const f of files) {
    execFileSync('sync', [f]);
    execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
  return residency(files);
}

export type Condition = 'warm' | 'cold';

/**
 * Sets the condition for the files just before a timed run and returns the lowest (warm) or
 * highest (cold) residency measured, for the record. Warm: a file not wholly resident (pages
 * evicted since it was read: the other benchmarks' files fill the cache too) is read again,
 * untimed, and checked; cold drops, then checks.
 */
export function prepare(files: string[], condition: Condition): number {
  if (condition === 'cold') return Math.max(...dropCache(files));
  const shares = residency(files);
  const partial = files.filter((_, i) => shares[i]! < 1);
  if (partial.length === 0) return 1;
  warmUp(partial);
  return Math.min(...residency(files));
}

/** Whether a residency measured by prepare() is the condition it stands for. */
export function holds(condition: Condition, share: number): boolean {
  return condition === 'warm' ? share >= WARM_MIN : share <= COLD_MAX;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  kernel: string;
  /** ISO date (UTC) of the run. */
  date: string;
}

/** The CPU model from /proc/cpuinfo's first "model name" line (or "Hardware"/"cpu model" on other architectures). */
export function parseCpuModel(cpuinfo: string): string | undefined {
  const m = /^(?:model name|Hardware|cpu model)\s*:\s*(.+)$/m.exec(cpuinfo);
  return m?.[1]?.trim().replace(/\s+/g, ' ');
}

/** MemTotal from /proc/meminfo, in bytes. */
export function parseMemTotal(meminfo: string): number | undefined {
  const m = /^MemTotal:\s*(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

export function machine(now = new Date()): Machine {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  return {
    cpu: parseCpuModel(read('/proc/cpuinfo')) ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramGb: (parseMemTotal(read('/proc/meminfo')) ?? totalmem()) / 2 ** 30,
    kernel,
    date: now.toISOString().slice(0, 10),
  };
}

export function formatMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGb.toFixed(0)} GB RAM, Linux ${m.kernel}, ${m.date}`;
}

/**
 * Runs of each tool in a comparison: an even number, so that each goes first as often as the other.
 * On this virtual disk the second cold read of a pair was often the slower (the 2 M file, 7 runs:
 * 0.76-0.78 s first, 1.06-1.14 s second, for both tools), and with an odd number the peer went
 * first once more: its median took a fast run and hopdump's a slow one.
 */
export const evenRuns = (n: number) => n + (n % 2);
