import type { Host } from '../host/host.js';
import type { DaemonScan } from './daemons.js';

/** What every collector gets: the host to ask and the namespace to look in. */
export interface CollectContext {
  host: Host;
  /**
   * Named namespace to look in, or "pid:N" for an unnamed one entered through
   * a process in it; undefined = the host's own root namespace.
   */
  netns: string | undefined;
  /** The daemons found on the host (one /proc walk per discovery); walked again when absent. */
  daemons?: DaemonScan;
  /**
   * Whether this is the namespace discovery starts from (the host, or --netns):
   * only there do a tool's own variables (OVS_RUNDIR...) and default sockets apply.
   */
  discoveryRoot?: boolean;
}

/** Runs argv in the collector's namespace, whichever way it is entered. */
export async function runIn(
  ctx: CollectContext,
  argv: string[],
  okCodes?: number[] | 'any',
  input?: string,
): Promise<string> {
  const extra = { ...(okCodes ? { okCodes } : {}), ...(input !== undefined ? { input } : {}) };
  const r = await ctx.host.run(argv, { ...(ctx.netns ? { netns: ctx.netns } : {}), ...extra });
  return r.stdout;
}

/** Parses iproute2's `-j` output; an empty answer is an empty list. */
export function parseJsonList<T>(text: string, what: string): T[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    const v = JSON.parse(trimmed) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    throw new Error(`could not parse JSON from ${what}`);
  }
}

/**
 * Splits output made of several JSON documents one after another (what
 * `ip -j -batch` prints: one array per command) into the parsed documents.
 */
export function splitJsonDocuments(text: string, what: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0 && start >= 0) {
        try {
          docs.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          throw new Error(`could not parse JSON from ${what}`);
        }
        start = -1;
      }
    }
  }
  return docs;
}
