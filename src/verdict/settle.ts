import type { Cause, Report } from '../model/report.js';

/**
 * The one place where a verdict and its causes are put together (diagnose and
 * analyze both call it): `status: ok` comes with an empty `causes` list. What
 * a check still found on a working path (a port left promiscuous, a rule that
 * dropped someone else's packets) is an oddity worth telling, not a cause: it
 * goes to `notices`, one line each, with the cause id it would have had.
 */
export function settleVerdict(
  status: Report['status'],
  causes: Cause[],
  notices: string[],
): { causes: Cause[]; notices: string[] } {
  if (status !== 'ok' || causes.length === 0) return { causes, notices };
  return {
    causes: [],
    notices: [
      ...notices,
      ...causes
        .filter((c) => c.id !== 'unknown')
        .map(
          (c) =>
            `${c.id}${c.device ? ` at ${c.device.netns}/${c.device.ifname}` : ''} (not a cause: the path works): ${c.summary}`,
        ),
    ],
  };
}
