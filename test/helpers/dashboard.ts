import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The fields of Grafana's dashboard schema that contrib/grafana/hopdump.json uses. */
export const contribFile = (p: string) => fileURLToPath(new URL(`../../../contrib/${p}`, import.meta.url));

const Target = z.object({
  refId: z.string().regex(/^[A-Z]$/),
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
  format: z.enum(['time_series', 'table', 'heatmap']).optional(),
  instant: z.boolean().optional(),
  datasource: z.object({ type: z.literal('prometheus'), uid: z.string() }),
});
const Panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['timeseries', 'state-timeline', 'table', 'stat', 'barchart', 'gauge']),
  title: z.string().min(1),
  gridPos: z.object({
    x: z.number().int().min(0).max(23),
    y: z.number().int().min(0),
    w: z.number().int().min(1).max(24),
    h: z.number().int().min(1),
  }),
  datasource: z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') }),
  targets: z.array(Target).min(1),
});
export const Dashboard = z.object({
  title: z.string(),
  uid: z.string().regex(/^[\w-]{1,40}$/),
  schemaVersion: z.number().int().min(36),
  version: z.number().int(),
  time: z.object({ from: z.string(), to: z.string() }),
  refresh: z.string(),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.enum(['datasource', 'query', 'custom']), query: z.string() })),
  }),
  panels: z.array(Panel).min(1),
});

export function dashboard() {
  return Dashboard.parse(JSON.parse(readFileSync(contribFile('grafana/hopdump.json'), 'utf8')));
}

/** Every query of the dashboard, as written (with Grafana's variables). */
export function dashboardQueries(): string[] {
  const d = dashboard();
  return d.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

/** A query with Grafana's variables replaced, to run against Prometheus itself. */
export function withoutVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replaceAll('$instance', '.*')
    .replaceAll('$target', '.*');
}
