import type { Correlation } from '../correlate/correlate.js';
import type { DropEvent, OvnNbState, PromiscLog } from '../model/evidence.js';
import type { Topology } from '../model/topology.js';
import type { Path } from '../model/path.js';
import type { Cause, CauseId, OvnTrace, OvsTrace, ProbeReport } from '../model/report.js';

/** Everything a check may read. Checks never change the system. */
export interface CheckContext {
  topology: Topology;
  path: Path;
  correlation: Correlation;
  probes: ProbeReport[];
  targetAddresses: string[];
  /** True when probes came from outside the host (they must cross the uplink). */
  probesFromOutside: boolean;
  /** Passive mode: no probes were sent, users' traffic was watched. */
  passive: boolean;
  /** The same host read again after the window: counters to compare with `topology`. */
  after?: Topology;
  /** Addresses the probes came from (for reverse-path and return-route checks). */
  sourceAddresses: string[];
  /** Kernel drop reasons seen during the window (tracefs), when available. */
  drops?: DropEvent[];
  /** "entered/left promiscuous mode" counts from the kernel log, when readable. */
  promiscLog?: PromiscLog;
  /** ofproto/trace of the probes' flows on the path's OVS bridges. */
  ovsTraces?: OvsTrace[];
  /** ovn-trace of the same flows, and OVN's northbound state, where OVN owns the bridge. */
  ovnTraces?: OvnTrace[];
  ovnNb?: OvnNbState;
}

export interface Check {
  /** The file's name, for messages. */
  name: string;
  /** The cause ids it can raise (docs/causes.md). */
  raises: CauseId[];
  run(ctx: CheckContext): Cause[] | Promise<Cause[]>;
}
