import type { Cause } from '../model/report.js';
import { bridgePortMissing } from './bridge-port-missing.js';
import { deviceDrops } from './device-drops.js';
import { firewallDrop } from './firewall-drop.js';
import { guestArpUnresolved } from './guest-arp-unresolved.js';
import { guestMacMismatch } from './guest-mac-mismatch.js';
import { ipConflict } from './ip-conflict.js';
import { kernelDrops } from './kernel-drops.js';
import { ipForwardDisabled } from './ip-forward-disabled.js';
import { linkDown } from './link-down.js';
import { macConflict } from './mac-conflict.js';
import { macvlanIsolation } from './macvlan-isolation.js';
import { mtuMismatch } from './mtu-mismatch.js';
import { natMissing } from './nat-missing.js';
import { noRoute } from './no-route.js';
import { ovnDrop } from './ovn-drop.js';
import { ovsFlowDrop } from './ovs-flow-drop.js';
import { ovsFlowMisdirect } from './ovs-flow-misdirect.js';
import { macWrongPort } from './mac-wrong-port.js';
import { vlanMismatch } from './vlan-mismatch.js';
import { promiscDependent } from './promisc-dependent.js';
import { rankCauses } from './rank.js';
import { rpFilterDrop } from './rp-filter-drop.js';
import { stpBlocking } from './stp-blocking.js';
import { tcFilter } from './tc-filter.js';
import { guestNoReply } from './guest-no-reply.js';
import { serviceNotListening } from './service-not-listening.js';
import type { Check, CheckContext } from './types.js';
import { unknownLocated } from './unknown.js';
import { targetMacOf } from '../model/topology.js';
import { upstreamNoTraffic } from './upstream-no-traffic.js';

/** Every check. Each is one file with its evidence and its advice. */
export const CHECKS: Check[] = [
  upstreamNoTraffic,
  serviceNotListening,
  guestArpUnresolved,
  guestMacMismatch,
  guestNoReply,
  firewallDrop,
  linkDown,
  bridgePortMissing,
  stpBlocking,
  macConflict,
  ipConflict,
  mtuMismatch,
  tcFilter,
  promiscDependent,
  ipForwardDisabled,
  rpFilterDrop,
  natMissing,
  noRoute,
  deviceDrops,
  ovsFlowDrop,
  ovnDrop,
  ovsFlowMisdirect,
  macWrongPort,
  vlanMismatch,
  macvlanIsolation,
  kernelDrops,
  unknownLocated,
];

/**
 * Runs the checks in parallel and ranks their causes: root causes before
 * the symptoms they explain (rank.ts), then higher confidence first;
 * `unknown` only when nothing else was found.
 */
export async function runChecks(
  ctx: CheckContext,
  checks: Check[] = CHECKS,
): Promise<{ causes: Cause[]; notices: string[] }> {
  const notices: string[] = [];
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return await c.run(ctx);
      } catch (err) {
        notices.push(`check ${c.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      }
    }),
  );
  let causes = results.flat();
  // Kernel drop reasons back up the cause another check found for the same reason.
  const kernel = results[checks.indexOf(kernelDrops)] ?? [];
  const others = causes.filter((c) => !kernel.includes(c));
  const explained = others.some((c) => c.id !== 'unknown' && c.id !== 'guest-no-reply');
  const segment = [ctx.correlation.loss?.lastSeenHop, ctx.correlation.loss?.firstMissingHop];
  for (const k of kernel) {
    const host = others.find((c) => c.id === k.id);
    const onSegment =
      k.device !== null && segment.some((h) => h?.netns === k.device!.netns && h.ifname === k.device!.ifname);
    if (host) {
      host.evidence.push(...k.evidence);
      host.confidence = Math.min(1, host.confidence + 0.03);
    }
    if (host || explained || !onSegment) causes = causes.filter((c) => c !== k);
  }
  // Fallbacks stand only when nothing better is known: `unknown` (located) and
  // `guest-no-reply` (the guest is silent and no check says why).
  const FALLBACK = new Set(['unknown', 'guest-no-reply']);
  if (causes.some((c) => !FALLBACK.has(c.id) && c.confidence >= 0.5))
    causes = causes.filter((c) => !FALLBACK.has(c.id));
  else if (causes.some((c) => c.id !== 'unknown')) causes = causes.filter((c) => c.id !== 'unknown');
  // Root causes before their symptoms (rank.ts, docs/causes.md "How ranking works").
  const targetMac = targetMacOf(ctx.topology, ctx.path.target.netns, ctx.path.target.ifname);
  const rstMacs = ctx.correlation.target.rstFromTarget.map((p) => p.srcMac).filter((m): m is string => Boolean(m));
  causes = rankCauses(causes, { path: ctx.path, topology: ctx.topology, ...(targetMac ? { targetMac } : {}), rstMacs });
  return { causes, notices };
}
