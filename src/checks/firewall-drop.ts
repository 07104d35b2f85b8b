import { iptablesWords, sh, verbatim } from '../util/shell.js';
import type { Path } from '../model/path.js';
import type { Cause, Loss } from '../model/report.js';
import type { Check } from './types.js';
import { inNetns, nsById, proximity } from './util.js';
import { counterOf, nftDevices, physdevs, reachedVia } from '../model/firewall-rules.js';

/**
 * DROP/REJECT rules and drop policies, in every namespace on the path, whose
 * packet counters rose during the window (iptables-save -c, ip6tables-save -c,
 * nft counters). Rules are named with table, chain, text and delta.
 */
export const firewallDrop: Check = {
  name: 'firewall-drop',
  raises: ['firewall-drop'],
  run({ topology, after, path, correlation, probes }) {
    if (!after) return [];
    // Nothing broke: a rule dropping other traffic meanwhile (IGMP reports flooded to a
    // Neutron port, scans) is no cause of anything.
    if (
      !correlation.loss &&
      probes.length > 0 &&
      probes.every((p) => p.outcome === 'answered' && p.answered === p.sent)
    )
      return [];
    const causes: Cause[] = [];
    const namespaces = [...new Set(path.hops.map((h) => h.netns))];
    for (const id of namespaces) {
      const before = nsById(topology, id)?.firewall;
      const now = nsById(after, id)?.firewall;
      if (!before || !now) continue;
      const device = pickDevice(path, id, correlation.loss);
      for (const chain of now.iptables) {
        const old = before.iptables.find(
          (c) => c.family === chain.family && c.table === chain.table && c.chain === chain.chain,
        );
        const tool = chain.family === 'ipv4' ? 'iptables' : 'ip6tables';
        // One cause per chain, with every rule in it that dropped during the window.
        const hits = chain.rules.flatMap((rule, i) => {
          if (rule.target !== 'DROP' && rule.target !== 'REJECT') return [];
          const delta = rule.packets - (old?.rules[i]?.spec === rule.spec ? old.rules[i].packets : 0);
          return delta > 0 ? [{ rule, delta }] : [];
        });
        if (hits.length > 0) {
          const total = hits.reduce((sum, h) => sum + h.delta, 0);
          const verb = hits.every((h) => h.rule.target === 'REJECT') ? 'rejects' : 'drops';
          // A bridge firewall names its port (physdev): the rule acts where that device is on the path.
          const ports = new Set([...hits.flatMap((h) => physdevs(h.rule.spec)), ...reachedVia(now.iptables, chain)]);
          const portHop = path.hops.find((h) => h.netns === id && ports.has(h.ifname));
          const at = portHop ? { netns: portHop.netns, ifname: portHop.ifname } : device;
          const elsewhere = ports.size > 0 && !portHop;
          causes.push({
            id: 'firewall-drop',
            confidence: (elsewhere ? 0.3 : 0.95) * proximity(path, correlation.loss, at.netns, at.ifname),
            device: at,
            summary: `${tool} ${chain.table}/${chain.chain} in ${id} ${verb} the traffic (${total} packets during the window)`,
            evidence: hits.map(
              (h) => `${tool}-save -c: [${h.rule.packets}:${h.rule.bytes}] ${h.rule.spec}  (+${h.delta} packets)`,
            ),
            fix: hits.map((h) =>
              inNetns(id, sh`${verbatim(tool)} -t ${chain.table} ${iptablesWords(h.rule.spec.replace(/^-A /, '-D '))}`),
            ),
          });
        }
        if (chain.policy === 'DROP' && old) {
          const delta = chain.packets - old.packets;
          if (delta > 0) {
            causes.push({
              id: 'firewall-drop',
              confidence: 0.85 * proximity(path, correlation.loss, device.netns, device.ifname),
              device,
              summary: `${tool} ${chain.table}/${chain.chain} in ${id} has policy DROP and dropped ${delta} packets during the window`,
              evidence: [`:${chain.chain} DROP [${chain.packets}:${chain.bytes}] (+${delta} packets)`],
              fix: [
                inNetns(
                  id,
                  sh`${verbatim(tool)} -t ${chain.table} -I ${chain.chain}` + ' <match for the flow> -j ACCEPT',
                ),
              ],
            });
          }
        }
      }
      for (const chain of now.nft) {
        const old = before.nft.find(
          (c) => c.family === chain.family && c.table === chain.table && c.chain === chain.chain,
        );
        for (const rule of chain.rules) {
          const text = JSON.stringify(rule.expr);
          if (!/"(drop|reject)"/.test(text)) continue;
          const packets = counterOf(rule.expr);
          const prev = old ? counterOf(old.rules.find((r) => r.handle === rule.handle)?.expr ?? []) : 0;
          if (packets === undefined || packets - (prev ?? 0) <= 0) continue;
          // A rule that names its ports (ebtables/nft bridge rules: iifname/oifname; a netdev
          // chain's device) acts where that port is on the path, on whichever bridge of a chain.
          const ports = new Set([...nftDevices(rule.expr), ...(chain.device ? [chain.device] : [])]);
          const portHop = path.hops.find((h) => h.netns === id && ports.has(h.ifname));
          const at = portHop ? { netns: portHop.netns, ifname: portHop.ifname } : device;
          const elsewhere = ports.size > 0 && !portHop;
          causes.push({
            id: 'firewall-drop',
            confidence: (elsewhere ? 0.3 : 0.95) * proximity(path, correlation.loss, at.netns, at.ifname),
            device: at,
            summary: `nft ${chain.family} ${chain.table} ${chain.chain} in ${id} drops the traffic (${packets - (prev ?? 0)} packets during the window)`,
            evidence: [
              `nft -a list chain ${chain.family} ${chain.table} ${chain.chain}: rule handle ${rule.handle}: ${text.slice(0, 200)}`,
            ],
            fix: [inNetns(id, sh`nft delete rule ${chain.family} ${chain.table} ${chain.chain} handle ${rule.handle}`)],
          });
        }
        // A drop policy on a base chain shows no counter: name it when the loss is in this namespace.
        if (
          chain.policy === 'drop' &&
          chain.hook &&
          correlation.loss &&
          [correlation.loss.firstMissingHop, correlation.loss.lastSeenHop].some((h) => h?.netns === id)
        ) {
          causes.push({
            id: 'firewall-drop',
            confidence: 0.6 * proximity(path, correlation.loss, device.netns, device.ifname),
            device,
            summary: `nft ${chain.family} ${chain.table} ${chain.chain} in ${id} has policy drop (hook ${chain.hook}${chain.device ? ` on ${chain.device}` : ''})`,
            evidence: [
              `nft list chain ${chain.family} ${chain.table} ${chain.chain}: type ${chain.type ?? '?'} hook ${chain.hook} policy drop, ${chain.rules.length} rules`,
            ],
            fix: [inNetns(id, sh`nft ${`chain ${chain.family} ${chain.table} ${chain.chain} { policy accept; }`}`)],
          });
        }
      }
    }
    return causes;
  },
};

/** The device a namespace's firewall acts for: the loss hop in it, else its first hop on the path. */
function pickDevice(p: Path, id: string, loss: Loss | null): { netns: string; ifname: string } {
  for (const h of [loss?.firstMissingHop, loss?.lastSeenHop])
    if (h && h.netns === id) return { netns: h.netns, ifname: h.ifname };
  const hop = p.hops.find((h) => h.netns === id)!;
  return { netns: hop.netns, ifname: hop.ifname };
}
