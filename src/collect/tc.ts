import type { Qdisc, TcFilter } from '../model/topology.js';
import { parseJsonList, runIn, type CollectContext } from './context.js';

interface TcQdiscJson {
  kind: string;
  handle: string;
  dev?: string;
  parent?: string;
  root?: boolean;
  packets?: number;
  drops?: number;
  overlimits?: number;
  backlog?: number;
  qlen?: number;
  options?: Record<string, unknown>;
}

interface TcActionJson {
  kind: string;
  mirred_action?: string;
  direction?: string;
  to_dev?: string;
  control_action?: { type?: string };
  [k: string]: unknown;
}

interface TcFilterJson {
  parent?: string;
  protocol?: string;
  pref?: number;
  kind: string;
  options?: { actions?: TcActionJson[]; [k: string]: unknown };
}

/** Every qdisc with its drop counters (`tc -j -s qdisc show`). */
export async function tcQdiscs(ctx: CollectContext): Promise<Qdisc[]> {
  const list = parseJsonList<TcQdiscJson>(await runIn(ctx, ['tc', '-j', '-s', 'qdisc', 'show']), 'tc -j -s qdisc show');
  return list
    .filter((q) => q.dev)
    .map((q) => ({
      dev: q.dev!,
      kind: q.kind,
      handle: q.handle,
      ...(q.parent ? { parent: q.parent } : {}),
      root: q.root === true,
      packets: q.packets ?? 0,
      drops: q.drops ?? 0,
      overlimits: q.overlimits ?? 0,
      backlog: q.backlog ?? 0,
      qlen: q.qlen ?? 0,
      options: q.options ?? {},
    }));
}

/**
 * Filters on the devices that can have them: ingress and clsact hooks, and
 * classful root qdiscs. One `tc filter show` per such hook; most devices have none.
 */
export async function tcFilters(ctx: CollectContext, qdiscs: Qdisc[]): Promise<TcFilter[]> {
  const hooks: Array<{ dev: string; direction: string; argv: string[] }> = [];
  for (const q of qdiscs) {
    if (q.kind === 'ingress') hooks.push({ dev: q.dev, direction: 'ingress', argv: ['ingress'] });
    else if (q.kind === 'clsact') {
      hooks.push(
        { dev: q.dev, direction: 'ingress', argv: ['ingress'] },
        { dev: q.dev, direction: 'egress', argv: ['egress'] },
      );
    } else if (q.root && ['prio', 'htb', 'hfsc', 'cbq', 'drr', 'qfq', 'ets'].includes(q.kind)) {
      hooks.push({ dev: q.dev, direction: q.handle, argv: ['parent', q.handle] });
    }
  }
  const results = await Promise.all(
    hooks.map(async (h) => {
      const list = parseJsonList<TcFilterJson>(
        await runIn(ctx, ['tc', '-j', 'filter', 'show', 'dev', h.dev, ...h.argv], 'any'),
        'tc -j filter show',
      );
      // tc lists a filter's chain head and hash table before the entries with actions.
      return list
        .filter(
          (f) => f.options && (f.options.actions || Object.keys(f.options).some((k) => k === 'match' || k === 'keys')),
        )
        .map((f): TcFilter => ({
          dev: h.dev,
          direction: h.direction,
          kind: f.kind,
          ...(f.protocol ? { protocol: f.protocol } : {}),
          ...(f.pref !== undefined ? { pref: f.pref } : {}),
          actions: (f.options?.actions ?? []).map(describeAction),
          raw: f,
        }));
    }),
  );
  return results.flat();
}

export function describeAction(a: TcActionJson): string {
  if (a.kind === 'mirred')
    return `mirred ${a.direction ?? ''} ${a.mirred_action ?? ''} dev ${a.to_dev ?? '?'}`.replace(/\s+/g, ' ');
  if (a.kind === 'gact') return `gact ${a.control_action?.type ?? ''}`.trim();
  return a.control_action?.type ? `${a.kind} ${a.control_action.type}` : a.kind;
}
