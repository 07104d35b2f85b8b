import type { Correlation } from '../correlate/correlate.js';
import type { HopPacket } from '../model/packet.js';
import type { Candidate } from '../model/path.js';
import { PathSchema } from '../model/path.js';
import {
  CauseIdSchema,
  LossSchema,
  OvnTraceSchema,
  OvsTraceSchema,
  ProbeReportSchema,
  type CauseId,
  type Loss,
  type Report,
} from '../model/report.js';
import { TopologySchema } from '../model/topology.js';
import {
  applyJsonChanges,
  fromTaggedJson,
  jsonChanges,
  toTaggedJson,
  writeJson,
  type JsonChange,
} from '../util/tagged-json.js';
import type { CheckContext } from './types.js';

/**
 * A diagnose fixture: the whole input of the part of a real diagnose that is a pure function of
 * what it read (docs/architecture.md, "Fixtures"). Given it, resolveTarget/findPath give the same
 * path and the checks the same causes, without root, namespaces or captures: tests replay them.
 * It holds no packets: the correlation as computed (its kept RSTs and ICMP errors without their
 * bytes), the probes' reports, and everything else the checks read (CheckContext).
 */
export const FIXTURE_FORMAT = 'hopdump-diagnose-fixture/1';

export interface DiagnoseFixture {
  format: typeof FIXTURE_FORMAT;
  /** What it was recorded from, as its recorder says (a lab's topology, fault and variant); diagnose leaves it out. */
  source?: Record<string, string | number | boolean>;
  /** What findPath was given: the target, the uplink asked for, and the backend diagnose followed (a silent guest's). */
  query: {
    target: string;
    /** The namespace that stood in for the root when the topology was read (discover --netns). */
    netns?: string;
    uplink?: string;
    backend?: Candidate;
  };
  /** How diagnose was asked to probe (with --promisc-test, result's causes are the experiment's, not only the checks'). */
  request: {
    probes: string[];
    from: string;
    count: number;
    size?: number;
    passive: boolean;
    durationSec?: number;
    promiscTest?: boolean;
  };
  /** Everything the checks read; its path is the one diagnose followed. */
  context: CheckContext;
  /** A worse status than the probes say (answers from the wrong host), as diagnose found it. */
  atLeast?: Report['status'];
  /** What diagnose concluded, for the replay to compare with. */
  result: {
    status: Report['status'];
    loss: Loss | null;
    causes: Array<{ id: CauseId; confidence: number; device: { netns: string; ifname: string } | null }>;
  };
}

/** A packet kept by the correlation, without its bytes (a fixture holds no packets). */
function withoutBytes(p: HopPacket): HopPacket {
  return { ...p, data: new Uint8Array(0) };
}

/**
 * The correlation as a fixture keeps it: its journeys, counts, loss and what it noticed of the
 * target, as computed; not the raw sightings of its live journeys (nothing after the correlator
 * reads them: they are the packets again) nor the bytes of the RSTs and ICMP errors it kept.
 */
export function fixtureCorrelation(c: Correlation): Correlation {
  return {
    ...c,
    live: [],
    target: {
      ...c.target,
      rstFromTarget: c.target.rstFromTarget.map(withoutBytes),
      icmpErrors: c.target.icmpErrors.map(withoutBytes),
    },
  };
}

/**
 * The file's JSON (util/tagged-json.ts: bigints and Maps tagged), its members on their own lines
 * down to a namespace's fields. The topology read after the window is written as its changes
 * from the one read before (`afterChanges`: counters, mostly), not a second copy.
 */
export function encodeFixture(f: DiagnoseFixture): string {
  const { after, ...context } = f.context;
  const tagged = toTaggedJson({
    ...f,
    context: { ...context, correlation: fixtureCorrelation(context.correlation) },
  }) as { context: { topology: unknown } };
  const afterChanges = after ? jsonChanges(tagged.context.topology, toTaggedJson(after)) : undefined;
  return `${writeJson({ ...tagged, ...(afterChanges ? { afterChanges } : {}) }, 5, '')}\n`;
}

/**
 * The fixture in a file's text. The parts the model has schemas for (topologies, path, probes,
 * traces, loss, cause ids) are validated with them, so a fixture that no longer fits the model
 * says so here (record it again: make fixtures) instead of failing somewhere in a check.
 */
export function decodeFixture(text: string, name = 'fixture'): DiagnoseFixture {
  const json = JSON.parse(text) as { context?: { topology?: unknown; after?: unknown }; afterChanges?: JsonChange[] };
  const { afterChanges, ...rest } = json;
  if (afterChanges && rest.context)
    rest.context = { ...rest.context, after: applyJsonChanges(rest.context.topology, afterChanges) };
  const raw = fromTaggedJson(rest) as DiagnoseFixture | undefined;
  if (raw?.format !== FIXTURE_FORMAT)
    throw new Error(`${name}: format ${JSON.stringify(raw?.format)} is not ${String(FIXTURE_FORMAT)}`);
  const at = <T>(what: string, parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      throw new Error(
        `${name}: ${what} does not fit the model (record it again: make fixtures): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  };
  const c = raw.context;
  const context: CheckContext = {
    ...c,
    topology: at('context.topology', () => TopologySchema.parse(c.topology)),
    ...(c.after ? { after: at('context.after', () => TopologySchema.parse(c.after)) } : {}),
    path: at('context.path', () => PathSchema.parse(c.path)),
    probes: at('context.probes', () => ProbeReportSchema.array().parse(c.probes)),
    ...(c.ovsTraces ? { ovsTraces: at('context.ovsTraces', () => OvsTraceSchema.array().parse(c.ovsTraces)) } : {}),
    ...(c.ovnTraces ? { ovnTraces: at('context.ovnTraces', () => OvnTraceSchema.array().parse(c.ovnTraces)) } : {}),
  };
  at('result', () => {
    LossSchema.nullable().parse(raw.result.loss);
    for (const cause of raw.result.causes) CauseIdSchema.parse(cause.id);
  });
  return { ...raw, context };
}
