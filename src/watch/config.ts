import { isMap, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { usageError } from '../errors.js';

/**
 * `hopdump watch --config FILE`: YAML, checked with zod. An error names the file, the line and
 * the key (exit 2), e.g. `watch.yaml line 7: targets[1].probe[0]: "ping" is not a probe`.
 */

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** `10s`, `500ms`, `2m`, `1h`, or a number of seconds. */
export function durationMs(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
  const m = DURATION_RE.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return n > 0 ? n : undefined;
}

const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = durationMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration (e.g. 10s, 500ms, 2m)` });
    return z.NEVER;
  }
  return ms;
});

/** What watch probes: cheap and answered by the target itself. */
export const WATCH_PROBE_RE = /^(icmp|tcp:(\d{1,5}))$/;

const Probe = z.string().superRefine((p, ctx) => {
  const m = WATCH_PROBE_RE.exec(p);
  if (m === null || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)))
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)} is not a watch probe (icmp or tcp:PORT)` });
});

const NAME_RE = /^[\w.:@/-]{1,64}$/;

export const TargetSchema = z
  .object({
    target: z.string().min(1),
    netns: z.string().min(1).optional(),
    from: z
      .string()
      .regex(/^(host|netns:.+)$/, 'is host or netns:NAME')
      .optional(),
    probe: z.array(Probe).min(1).optional(),
    name: z.string().regex(NAME_RE, 'is 1-64 letters, digits and . : @ / - _').optional(),
    interval: Duration.optional(),
  })
  .strict();

const RunsSchema = z
  .object({
    dir: z.string().optional(),
    maxRuns: z.number().int().min(1).optional(),
    maxBytes: z.number().int().min(1).optional(),
  })
  .strict();

const DiagnoseSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** At most one diagnose of a target per this long. */
    minInterval: Duration.default(600_000),
    timeout: Duration.default(120_000),
  })
  .strict();

export const WatchConfigSchema = z
  .object({
    interval: Duration.default(10_000),
    /** ADDR:PORT, as --listen. */
    listen: z.string().optional(),
    /** A file holding the token required when listening on another address than loopback. */
    tokenFile: z.string().optional(),
    runs: RunsSchema.optional(),
    diagnose: DiagnoseSchema.default({ enabled: true, minInterval: 600_000, timeout: 120_000 }),
    discover: z.boolean().default(false),
    /** Where discover: true looks from (as --netns); default the host. */
    netns: z.string().min(1).optional(),
    targets: z.array(TargetSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.targets.forEach((t, i) => {
      const name = t.name ?? t.target;
      const before = seen.get(name);
      if (before !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i, t.name ? 'name' : 'target'],
          message: `${JSON.stringify(name)} is already the name of targets[${before}] (give one a name:)`,
        });
      seen.set(name, i);
    });
    if (c.targets.length === 0 && !c.discover)
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'names no target (and discover is not true)' });
  });

export type WatchConfig = z.output<typeof WatchConfigSchema>;
export type WatchTargetConfig = z.output<typeof TargetSchema>;

/** Parses and checks the YAML text; throws a usage error naming the line and key. */
export function parseWatchConfig(text: string, file: string): WatchConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    throw usageError(`${file} line ${line}: ${e.message.split('\n')[0] ?? 'not YAML'}`);
  }
  const parsed = WatchConfigSchema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  let path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    message = `unknown key (${describeKeys(path.slice(0, -1))})`;
  }
  const line = lineOf(doc, lines, path);
  const key = keyText(path);
  throw usageError(`${file}${line ? ` line ${line}` : ''}: ${key ? `${key}: ` : ''}${message}`);
}

/** The keys the schema knows where an unknown one was found, from the schema itself. */
function describeKeys(parent: Array<string | number>): string {
  const at = parent.filter((p) => typeof p === 'string').join('.');
  const shape =
    at === ''
      ? WatchConfigSchema.shape
      : at === 'targets'
        ? TargetSchema.shape
        : at === 'runs'
          ? RunsSchema.shape
          : at === 'diagnose'
            ? DiagnoseSchema.shape
            : undefined;
  return shape ? `known: ${Object.keys(shape).join(', ')}` : 'not a key here';
}

function keyText(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The line of the deepest node the path reaches (a key's own line for a map entry). */
function lineOf(doc: Document, lines: LineCounter, path: Array<string | number>): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = offsetLine(lines, node);
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === step);
      if (!pair) break;
      line = offsetLine(lines, pair.key) ?? line;
      node = pair.value;
      if (node && (node as YamlNode).range && typeof step === 'string' && !isMap(node))
        line = offsetLine(lines, node) ?? line;
      continue;
    }
    const items = (node as { items?: unknown[] } | null)?.items;
    if (Array.isArray(items) && typeof step === 'number' && items[step] !== undefined) {
      node = items[step];
      line = offsetLine(lines, node) ?? line;
      continue;
    }
    break;
  }
  return line;
}

function offsetLine(lines: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}
