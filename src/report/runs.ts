import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { environmentError, fileError } from '../errors.js';
import type { HopPacket } from '../model/packet.js';
import type { Report } from '../model/report.js';
import { createRunDir, writeNew } from './files.js';
import { writeRunFiles } from './run-files.js';

/**
 * The runs store: every diagnose run that is not given its own `--out DIR` goes to
 * ROOT/ID/ (default /var/lib/hopdump/runs, `--runs DIR`, or HOPDUMP_RUNS), with a marker file
 * that says the directory is the store's and summarises the run. The store is bounded (by
 * default 100 runs and 1 GiB, oldest removed first) and prunes only directories that carry
 * the marker: never a directory given with --out, never anything else in ROOT.
 * Directories are 0700 and files 0600 (captures hold users' traffic).
 */
export const DEFAULT_RUNS_ROOT = '/var/lib/hopdump/runs';
export const RUN_MARKER = '.hopdump-run';
export const DEFAULT_MAX_RUNS = 100;
export const DEFAULT_MAX_BYTES = 1 << 30;

/** IDs sort by time: UTC date and time, then 4 random hex digits. */
const ID_RE = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

export const RunMarkerSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  /** Who started it: the command line or watch. */
  by: z.enum(['cli', 'watch', 'serve']),
  target: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  status: z.enum(['ok', 'degraded', 'broken']).optional(),
  /** The top cause, where there is one: its id and the device it names. */
  cause: z.object({ id: z.string(), hop: z.string().nullable() }).optional(),
  error: z.string().optional(),
});
export type RunMarker = z.infer<typeof RunMarkerSchema>;

export interface RunEntry extends RunMarker {
  dir: string;
  /** Bytes of the run's files. */
  bytes: number;
  files: string[];
}

export interface RunsStoreOptions {
  root: string;
  maxRuns?: number;
  maxBytes?: number;
}

/** The store's root: the flag, else HOPDUMP_RUNS, else the default. */
export function runsRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.HOPDUMP_RUNS || DEFAULT_RUNS_ROOT);
}

export function isRunId(id: string): boolean {
  return ID_RE.test(id);
}

export class RunsStore {
  readonly root: string;
  readonly maxRuns: number;
  readonly maxBytes: number;

  constructor(o: RunsStoreOptions) {
    this.root = o.root;
    this.maxRuns = o.maxRuns ?? DEFAULT_MAX_RUNS;
    this.maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** A new run's directory (0700) with its marker (state running). */
  create(target: string, by: RunMarker['by'], now = new Date()): { id: string; dir: string } {
    createRunDir(this.root);
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    for (let attempt = 0; attempt < 20; attempt++) {
      const id = `${stamp}-${randomBytes(2).toString('hex')}`;
      const dir = join(this.root, id);
      if (lstatOrUndefined(dir)) continue;
      createRunDir(dir);
      this.writeMarker(dir, { id, createdAt: now.toISOString(), by, target, state: 'running' });
      return { id, dir };
    }
    throw environmentError(`cannot make a run directory in ${this.root}`);
  }

  /** Records the run's outcome in its marker. */
  finish(id: string, outcome: { report: Report } | { error: string }, now = new Date()): void {
    const dir = join(this.root, id);
    const marker = readMarker(dir);
    if (!marker) return;
    const done: RunMarker =
      'report' in outcome
        ? {
            ...marker,
            state: 'done',
            finishedAt: now.toISOString(),
            status: outcome.report.status,
            ...(outcome.report.causes[0]
              ? {
                  cause: {
                    id: outcome.report.causes[0].id,
                    hop: deviceName(outcome.report.causes[0].device),
                  },
                }
              : {}),
          }
        : { ...marker, state: 'failed', finishedAt: now.toISOString(), error: outcome.error };
    this.writeMarker(dir, done);
  }

  /**
   * A finished diagnose into its run: the run's files written (run-files.ts), the marker done with
   * its outcome, then the store pruned (this run kept). What the command line, watch and serve do.
   */
  keep(id: string, report: Report, packets: HopPacket[]): void {
    writeRunFiles(join(this.root, id), report, packets);
    this.finish(id, { report });
    this.prune(id);
  }

  /** Every run in the store, newest first. */
  list(): RunEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fileError(err);
    }
    const out: RunEntry[] = [];
    for (const name of names.filter(isRunId).sort().reverse()) {
      const entry = this.get(name);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** One run, or undefined when the id is malformed or no marked run has it. */
  get(id: string): RunEntry | undefined {
    if (!isRunId(id)) return undefined;
    const dir = join(this.root, id);
    const st = lstatOrUndefined(dir);
    if (!st?.isDirectory()) return undefined;
    const marker = readMarker(dir);
    if (!marker) return undefined;
    let bytes = 0;
    const files: string[] = [];
    for (const f of readdirSync(dir)) {
      const fst = lstatOrUndefined(join(dir, f));
      if (!fst?.isFile()) continue;
      bytes += fst.size;
      if (f !== RUN_MARKER) files.push(f);
    }
    return { ...marker, dir, bytes, files: files.sort() };
  }

  /**
   * Removes the oldest marked runs until at most maxRuns remain and they hold at most maxBytes
   * together; `keep` (the run just written) is never removed. Returns the removed directories.
   */
  prune(keep?: string): string[] {
    const runs = this.list().reverse(); // oldest first
    let count = runs.length;
    let bytes = runs.reduce((s, r) => s + r.bytes, 0);
    const removed: string[] = [];
    for (const r of runs) {
      if (count <= this.maxRuns && bytes <= this.maxBytes) break;
      if (r.id === keep) continue;
      // Only what carries the marker, and only the store's own files under it.
      if (!readMarker(r.dir)) continue;
      rmSync(r.dir, { recursive: true, force: true });
      removed.push(r.dir);
      count--;
      bytes -= r.bytes;
    }
    return removed;
  }

  private writeMarker(dir: string, marker: RunMarker): void {
    // A new file then a rename: a reader sees the old marker or the new one, never half of one.
    const tmp = join(dir, `${RUN_MARKER}.new`);
    if (lstatOrUndefined(tmp)) unlinkSync(tmp);
    writeNew(tmp, `${JSON.stringify(marker)}\n`);
    renameSync(tmp, join(dir, RUN_MARKER));
  }
}

function readMarker(dir: string): RunMarker | undefined {
  const file = join(dir, RUN_MARKER);
  const st = lstatOrUndefined(file);
  if (!st?.isFile()) return undefined;
  try {
    const parsed = RunMarkerSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function deviceName(d: { netns: string; ifname: string } | null): string | null {
  return d ? `${d.netns}/${d.ifname}` : null;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
