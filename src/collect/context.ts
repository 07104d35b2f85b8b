import type { Host } from '../host/host.js';

/** What every collector gets: the host to ask and the namespace to look in. */
export interface CollectContext {
  host: Host;
  /** Named namespace to look in; undefined = the host's own root namespace. */
  netns: string | undefined;
  /** For namespaces without a name: a process inside it (`nsenter --net=/proc/PID/ns/net`). */
  viaPid?: number;
}

/** Runs argv in the collector's namespace, whichever way it is entered. */
export async function runIn(ctx: CollectContext, argv: string[], okCodes?: number[] | 'any'): Promise<string> {
  if (ctx.viaPid !== undefined) {
    const r = await ctx.host.run(['nsenter', `--net=/proc/${ctx.viaPid}/ns/net`, '--', ...argv], okCodes ? { okCodes } : {});
    return r.stdout;
  }
  const r = await ctx.host.run(argv, { ...(ctx.netns ? { netns: ctx.netns } : {}), ...(okCodes ? { okCodes } : {}) });
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
