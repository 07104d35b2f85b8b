import type { Correlation } from '../correlate/correlate.js';
import type { Cause, ProbeReport, Report } from '../model/report.js';
import { settleVerdict } from './settle.js';

/**
 * The report object both use cases return (diagnose: live captures and probes; analyze: capture
 * files): the status from the probes and the loss, the verdict settled (an ok status lists no
 * causes), and the correlation's per-hop counts, loss, journeys and "instead" lines.
 */
export interface ReportParts {
  mode: Report['mode'];
  version: string;
  startedAt: string;
  target: Report['target'];
  path: Report['path'];
  probes: ProbeReport[];
  correlation: Correlation;
  passive: boolean;
  /** A worse status than the probes say (answers from the wrong host): it wins. */
  atLeast?: Report['status'];
  /** Per-hop counts when they carry more than the correlation's (tcpdump's kernel drops). */
  hops?: Report['hops'];
  causes: Cause[];
  notices: string[];
  ovsTraces?: NonNullable<Report['ovsTraces']>;
  ovnTraces?: NonNullable<Report['ovnTraces']>;
  timing: Report['timing'];
}

export function assembleReport(p: ReportParts): Report {
  const status = worst(statusOf(p.probes, p.correlation, p.passive), p.atLeast ?? 'ok');
  const verdict = settleVerdict(status, p.causes, p.notices);
  return {
    schemaVersion: 1,
    tool: { name: 'hopdump', version: p.version },
    mode: p.mode,
    startedAt: p.startedAt,
    target: p.target,
    path: p.path,
    probes: p.probes,
    hops: p.hops ?? p.correlation.hopCounts,
    status,
    loss: p.correlation.loss,
    causes: verdict.causes,
    instead: p.correlation.instead,
    traces: p.correlation.journeys,
    ...(p.ovsTraces?.length ? { ovsTraces: p.ovsTraces } : {}),
    ...(p.ovnTraces?.length ? { ovnTraces: p.ovnTraces } : {}),
    captureFile: null,
    notices: verdict.notices,
    timing: p.timing,
  };
}

/** The probe report of a passive run (users' traffic watched, or capture files read). */
export function passiveProbeReport(
  correlation: Correlation,
  o: { address: string; command: string; from: string; detail: string },
): ProbeReport {
  return {
    kind: 'passive',
    address: o.address,
    command: o.command,
    from: o.from,
    sent: correlation.complete['to-target'] + correlation.incomplete['to-target'],
    answered: correlation.complete['from-target'],
    outcome: 'observed',
    detail: o.detail,
  };
}

/**
 * Passive: ok without loss; degraded when some replies made it, broken when none did.
 * Probes: ok when every probe was answered (a refusal is not an answer) and nothing was lost.
 */
export function statusOf(probes: ProbeReport[], correlation: Correlation, passive: boolean): Report['status'] {
  const lossFound = correlation.loss !== null;
  if (passive) {
    if (!lossFound) return 'ok';
    return correlation.complete['from-target'] > 0 ? 'degraded' : 'broken';
  }
  const sent = probes.reduce((s, p) => s + p.sent, 0);
  const good = probes.reduce((s, p) => s + (p.outcome === 'refused' ? 0 : p.answered), 0);
  if (sent > 0 && good === sent && !lossFound) return 'ok';
  return good > 0 ? 'degraded' : 'broken';
}

function worst(a: Report['status'], b: Report['status']): Report['status'] {
  const order = ['ok', 'degraded', 'broken'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}
