import { z } from 'zod';
import { PathSchema, HopRoleSchema } from './path.js';

/**
 * The diagnosis report: the one object every reporter (terminal text, JSON,
 * pcapng comments, HTML) renders. This schema is the TypeScript type, the
 * published JSON Schema (schema/report.schema.json) and what tests validate.
 */

export const CAUSE_IDS = [
  'firewall-drop',
  'link-down',
  'bridge-port-missing',
  'stp-blocking',
  'mac-conflict',
  'ip-conflict',
  'mtu-mismatch',
  'tc-filter',
  'service-not-listening',
  'guest-arp-unresolved',
  'guest-nic-down',
  'guest-mac-mismatch',
  'guest-no-reply',
  'promisc-dependent',
  'ip-forward-disabled',
  'rp-filter-drop',
  'nat-missing',
  'no-route',
  'upstream-no-traffic',
  'vlan-mismatch',
  'ovs-flow-drop',
  'ovs-flow-misdirect',
  'ovn-acl-drop',
  'ovn-port-security',
  'mac-wrong-port',
  'device-drops',
  'macvlan-isolation',
  'unknown',
] as const;
export const CauseIdSchema = z.enum(CAUSE_IDS);
export type CauseId = z.infer<typeof CauseIdSchema>;

export const HopRefSchema = z.object({ netns: z.string(), ifname: z.string(), role: HopRoleSchema });
export type HopRef = z.infer<typeof HopRefSchema>;

export const DirectionSchema = z.enum(['to-target', 'from-target']);
export type Direction = z.infer<typeof DirectionSchema>;

export const CauseSchema = z.object({
  id: CauseIdSchema,
  /** 0..1: how directly the evidence explains the observed break. */
  confidence: z.number().min(0).max(1),
  device: z.object({ netns: z.string(), ifname: z.string() }).nullable(),
  summary: z.string(),
  evidence: z.array(z.string()),
  /**
   * What to do: commands an operator can paste (every name or address from the host quoted as one
   * shell word, src/util/shell.ts), with remarks after `#`, or a remark alone where no exact
   * command can be given (placeholders such as GATEWAY are in capitals). hopdump never runs them.
   */
  fix: z.array(z.string()),
});
export type Cause = z.infer<typeof CauseSchema>;

export const ProbeReportSchema = z.object({
  kind: z.enum(['icmp', 'tcp', 'udp', 'arp', 'passive']),
  address: z.string(),
  port: z.number().int().optional(),
  size: z.number().int().optional(),
  command: z.string(),
  from: z.string(),
  sent: z.number().int(),
  answered: z.number().int(),
  outcome: z.enum(['answered', 'refused', 'timeout', 'unreachable', 'error', 'observed']),
  detail: z.string(),
});
export type ProbeReport = z.infer<typeof ProbeReportSchema>;

export const HopCountsSchema = z.object({
  netns: z.string(),
  ifname: z.string(),
  role: HopRoleSchema,
  /** False when no capture ran there (a bridge that does not see transit) or it failed. */
  observed: z.boolean(),
  notObservedReason: z.string().optional(),
  toTarget: z.number().int(),
  fromTarget: z.number().int(),
  arpRequests: z.number().int(),
  arpReplies: z.number().int(),
  other: z.number().int(),
  /** tcpdump's own "packets dropped by kernel". */
  kernelDrops: z.number().int().optional(),
});
export type HopCounts = z.infer<typeof HopCountsSchema>;

export const LossSchema = z.object({
  direction: DirectionSchema,
  lastSeenHop: HopRefSchema.nullable(),
  firstMissingHop: HopRefSchema.nullable(),
});
export type Loss = z.infer<typeof LossSchema>;

/** One packet followed across the hops: a journey (the report keeps its JSON name, `traces`). */
export const JourneySchema = z.object({
  summary: z.string(),
  direction: DirectionSchema,
  seenAt: z.array(z.object({ hop: z.number().int(), ts: z.string(), latencyUs: z.number().optional() })),
  changes: z.array(z.string()),
});
export type Journey = z.infer<typeof JourneySchema>;

/** One rule ofproto/trace went through: its bridge, table, match, priority and what it did. */
export const OvsTraceRuleSchema = z.object({
  bridge: z.string(),
  table: z.number().int(),
  priority: z.number().int().optional(),
  match: z.string(),
  /** Its actions, then the trace's "->" remarks (e.g. "-> forwarding to learned port"). */
  actions: z.array(z.string()),
});
export type OvsTraceRule = z.infer<typeof OvsTraceRuleSchema>;

/** `ovs-appctl ofproto/trace` of the probe's flow on one OVS bridge of the path, in one direction. */
export const OvsTraceSchema = z.object({
  bridge: z.string(),
  direction: DirectionSchema,
  proto: z.string(),
  inPort: z.string(),
  /** The flow as given to ofproto/trace. */
  flow: z.string(),
  /** True when no such packet was captured and the flow was made by mirroring the request. */
  synthesized: z.boolean(),
  verdict: z.enum(['output', 'drop', 'error']),
  datapathActions: z.string(),
  /** Ports the datapath actions output to. */
  outputs: z.array(z.string()),
  rules: z.array(OvsTraceRuleSchema),
  /** NORMAL found no learned port for the destination MAC and flooded. */
  flooded: z.boolean(),
  /** The trace's own lines (bridges, rules, actions, datapath actions). */
  excerpt: z.array(z.string()),
});
export type OvsTrace = z.infer<typeof OvsTraceSchema>;

/** `ovn-trace` of the same packet on OVN's logical pipeline (where OVN owns the bridge). */
export const OvnTraceStageSchema = z.object({
  pipeline: z.enum(['ingress', 'egress']),
  table: z.number().int(),
  /** ls_in_check_port_sec, ls_out_acl, ... */
  stage: z.string(),
  match: z.string(),
  priority: z.number().int().optional(),
  actions: z.array(z.string()),
});
export const OvnTraceSchema = z.object({
  direction: DirectionSchema,
  proto: z.string(),
  synthesized: z.boolean(),
  datapath: z.string(),
  inport: z.string(),
  expression: z.string(),
  verdict: z.enum(['output', 'drop']),
  outport: z.string().optional(),
  dropStage: OvnTraceStageSchema.optional(),
  stages: z.array(OvnTraceStageSchema),
  excerpt: z.array(z.string()),
});
export type OvnTrace = z.infer<typeof OvnTraceSchema>;

export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal('hopdump'), version: z.string() }),
  /** diagnose: live captures and probes; analyze: capture files. */
  mode: z.enum(['diagnose', 'analyze']),
  startedAt: z.string(),
  target: z.object({
    query: z.string(),
    netns: z.string(),
    ifname: z.string(),
    address: z.string().optional(),
    /** The Docker container whose namespace netns is. */
    container: z.string().optional(),
  }),
  path: PathSchema,
  probes: z.array(ProbeReportSchema),
  hops: z.array(HopCountsSchema),
  status: z.enum(['ok', 'degraded', 'broken']),
  loss: LossSchema.nullable(),
  causes: z.array(CauseSchema),
  /** What came back instead of a reply: RSTs, ICMP errors, unanswered ARP. */
  instead: z.array(z.string()),
  traces: z.array(JourneySchema),
  /** Segments inside Open vSwitch explained by OpenFlow (ofproto/trace), per bridge and direction. */
  ovsTraces: z.array(OvsTraceSchema).optional(),
  /** The same flows on OVN's logical pipeline, where OVN owns the bridge (ovn-trace). */
  ovnTraces: z.array(OvnTraceSchema).optional(),
  captureFile: z.string().nullable(),
  notices: z.array(z.string()),
  /** Where the time went, in milliseconds. */
  timing: z.object({
    discoverMs: z.number(),
    /** From starting the captures to all of them listening. */
    captureStartMs: z.number(),
    /** Probing (or watching) plus the grace period for late replies. */
    windowMs: z.number(),
    /** Stopping the captures, re-reading the host, correlating and checking. */
    analysisMs: z.number(),
    totalMs: z.number(),
  }),
});
export type Report = z.infer<typeof ReportSchema>;
