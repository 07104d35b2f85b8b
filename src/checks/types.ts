import type { Correlation } from '../correlate/correlate.js';
import type { Topology } from '../model/topology.js';
import type { Path } from '../path/types.js';
import type { Cause, CauseId, ProbeReport } from '../report/schema.js';

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
}

export interface Check {
  /** The file's name, for messages. */
  name: string;
  /** The cause ids it can raise (docs/causes.md). */
  raises: CauseId[];
  run(ctx: CheckContext): Cause[] | Promise<Cause[]>;
}
