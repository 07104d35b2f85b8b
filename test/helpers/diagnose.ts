import { readHopPackets } from '../../src/correlate/packets.js';
import { diagnose, type DiagnoseOptions } from '../../src/diagnose/diagnose.js';
import { host, type RunningLab } from './lab.js';

/** diagnose on a lab, probing from its client unless told otherwise. */
export function diagnoseLab(
  lab: RunningLab,
  target: string,
  options: Partial<Omit<DiagnoseOptions, 'host' | 'reader' | 'target'>> = {},
): ReturnType<typeof diagnose> {
  return diagnose({
    host,
    reader: readHopPackets,
    netns: lab.state.hypervisor,
    target,
    probes: [],
    from: `netns:${lab.state.client}`,
    count: 3,
    passive: false,
    ...options,
  });
}
