import { sh, verbatim } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { inNetns, nsById, proximity } from './util.js';

const HARMFUL = /drop|redirect|stolen|shot|trap/;

/** tc filters on path devices whose actions drop or redirect traffic. */
export const tcFilter: Check = {
  name: 'tc-filter',
  raises: ['tc-filter'],
  run({ topology, path, correlation, targetAddresses }) {
    const causes: Cause[] = [];
    // A filter for the other IP family (protocol ip = ethertype 0x0800, ipv6 = 0x86dd)
    // never sees the diagnosed traffic: on a dual-stack host it is not this cause.
    const otherFamily = (targetAddresses[0] ?? '').includes(':') ? 'ip' : 'ipv6';
    for (const hop of path.hops) {
      const filters = nsById(topology, hop.netns)?.tcFilters?.filter((f) => f.dev === hop.ifname) ?? [];
      for (const f of filters) {
        const bad = f.actions.filter((a) => HARMFUL.test(a));
        if (bad.length === 0 || f.protocol === otherFamily) continue;
        const parent =
          f.direction === 'ingress' ? 'ingress' : f.direction === 'egress' ? 'egress' : `parent ${f.direction}`;
        causes.push({
          id: 'tc-filter',
          confidence: 0.9 * proximity(path, correlation.loss, hop.netns, hop.ifname),
          device: { netns: hop.netns, ifname: hop.ifname },
          summary: `a tc ${f.kind} filter on ${hop.netns}/${hop.ifname} (${f.direction}) ${bad.join(', ')}`,
          evidence: [
            `tc filter show dev ${hop.ifname} ${parent}: ${f.kind}${f.protocol ? ` protocol ${f.protocol}` : ''}${f.pref !== undefined ? ` pref ${f.pref}` : ''} → ${f.actions.join(', ')}`,
          ],
          fix: [
            inNetns(
              hop.netns,
              sh`tc filter del dev ${hop.ifname} ${verbatim(f.direction === 'ingress' || f.direction === 'egress' ? f.direction : sh`parent ${f.direction}`)}${verbatim(f.pref !== undefined ? sh` pref ${f.pref}` : '')}`,
            ),
          ],
        });
      }
    }
    return causes;
  },
};
