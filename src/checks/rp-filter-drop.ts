import { remark, sh, withRemark } from '../util/shell.js';
import { routeDev } from '../path/find.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * Reverse-path filtering on the routing hop's ingress: strict mode (1) drops
 * a packet whose source is routed out of another device; loose mode (2) one
 * whose source has no route at all (SKB_DROP_REASON_IP_RPFILTER).
 */
export const rpFilterDrop: Check = {
  name: 'rp-filter-drop',
  raises: ['rp-filter-drop'],
  run({ topology, path, sourceAddresses }) {
    const routedIndex = path.hops.findIndex((h) => h.via === 'route');
    const ingress = path.hops[routedIndex - 1];
    if (routedIndex < 1 || !ingress || sourceAddresses.length === 0) return [];
    const ns = nsById(topology, ingress.netns);
    const rp = ns?.sysctls?.rp_filter;
    if (!ns || !rp) return [];
    // The effective value is the maximum of conf/all and conf/DEV (ip-sysctl.rst).
    const mode = Math.max(rp['all'] ?? 0, rp[ingress.ifname] ?? 0);
    if (mode === 0) return [];
    // IPv4 only: the kernel has no rp_filter for IPv6 (no net.ipv6.conf.*.rp_filter);
    // IPv6 reverse-path checks are firewall rules (ip6tables -m rpfilter, nft fib),
    // which firewall-drop names by their counters.
    const src = sourceAddresses.find((s) => !s.includes(':'));
    if (!src) return [];
    const back = routeDev(ns, src);
    const fails = mode === 1 ? back !== ingress.ifname : back === undefined;
    if (!fails) return [];
    const route = ns.routes
      .filter((r) => r.table === 'main' && r.dev === back)
      .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}`)
      .find(() => true);
    return [
      {
        id: 'rp-filter-drop',
        confidence: 0.9,
        device: { netns: ingress.netns, ifname: ingress.ifname },
        summary: `${mode === 1 ? 'strict' : 'loose'} rp_filter on ${ingress.netns}/${ingress.ifname} drops packets from ${src}: the route back to it ${back ? `goes out of ${back}` : 'does not exist'}`,
        evidence: [
          `net.ipv4.conf.all.rp_filter=${rp['all'] ?? '?'}, net.ipv4.conf.${ingress.ifname}.rp_filter=${rp[ingress.ifname] ?? '?'} (effective ${mode})`,
          `ip route get ${src} in ${ingress.netns}: ${back ? `dev ${back}${route ? ` (${route})` : ''}` : 'no route'}; packets from it arrive on ${ingress.ifname}`,
        ],
        fix: [
          remark(
            back ? `fix the asymmetric route to ${src} in ${ingress.netns}, or:` : `add a route back to ${src}, or:`,
          ),
          withRemark(
            inNetns(
              ingress.netns,
              sh`sysctl -w net.ipv4.conf.all.rp_filter=2 ${`net.ipv4.conf.${ingress.ifname}.rp_filter=2`}`,
            ),
            'loose mode',
          ),
        ],
      },
    ];
  },
};
