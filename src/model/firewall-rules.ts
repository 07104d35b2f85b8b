import type { Firewall } from './topology.js';

/**
 * Reading firewall rules as data (iptables-save -c and nft -j, as collected): their counters and
 * the devices they name. Used by the firewall-drop check and by watch's rule-drop counters.
 */

/** An nft rule's packet counter, when it has one. */
export function counterOf(expr: unknown[]): number | undefined {
  for (const e of expr) {
    const c = (e as { counter?: { packets?: number } }).counter;
    if (c && typeof c.packets === 'number') return c.packets;
  }
  return undefined;
}

/** Devices an nft rule matches by name (meta iifname/oifname, and the bridge's ibrname/obrname). */
export function nftDevices(expr: unknown[]): string[] {
  const out: string[] = [];
  for (const e of expr) {
    const m = (e as { match?: { left?: { meta?: { key?: string } }; right?: unknown } }).match;
    const key = m?.left?.meta?.key;
    if (!key || !['iifname', 'oifname', 'ibrname', 'obrname'].includes(key)) continue;
    const right = m.right;
    const names =
      typeof right === 'string'
        ? [right]
        : ((right as { set?: unknown[] })?.set ?? []).filter((x): x is string => typeof x === 'string');
    out.push(...names);
  }
  return out;
}

/** Devices a rule matches with -m physdev (--physdev-in/--physdev-out). */
export function physdevs(spec: string): string[] {
  return [...spec.matchAll(/--physdev-(?:in|out) (\S+)/g)].map((m) => m[1]!);
}

/**
 * The physdev devices of the rules that jump to this chain, followed up the
 * chain graph (Neutron: FORWARD → neutron-openvswi-sg-chain --physdev-out tapX
 * → neutron-openvswi-iX → neutron-openvswi-sg-fallback).
 */
export function reachedVia(
  chains: Array<{
    table: string;
    family: string;
    chain: string;
    rules: Array<{ spec: string; target?: string | undefined }>;
  }>,
  chain: { table: string; family: string; chain: string },
): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (name: string, depth: number) => {
    if (seen.has(name) || depth > 6) return;
    seen.add(name);
    for (const c of chains.filter((x) => x.table === chain.table && x.family === chain.family)) {
      for (const r of c.rules.filter((x) => x.target === name)) {
        const devs = physdevs(r.spec);
        if (devs.length) devs.forEach((d) => out.add(d));
        else walk(c.chain, depth + 1);
      }
    }
  };
  walk(chain.chain, 0);
  return [...out];
}

/**
 * Packets counted so far by the DROP/REJECT rules of a namespace's firewall, per table and chain
 * (key `TABLE\tCHAIN`; iptables tables prefixed by their family, e.g. ipv4 filter), keeping only
 * rules that name none of their devices or name one of `devices` (physdev, iifname/oifname, a
 * netdev chain's device, or the physdev of the rules that jump to the chain).
 */
export function dropRuleCounters(fw: Firewall, devices: Set<string>): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, n: number) => out.set(key, (out.get(key) ?? 0) + n);
  const relevant = (named: string[]) => named.length === 0 || named.some((d) => devices.has(d));
  for (const chain of fw.iptables) {
    const via = reachedVia(fw.iptables, chain);
    for (const rule of chain.rules) {
      if (rule.target !== 'DROP' && rule.target !== 'REJECT') continue;
      if (!relevant([...physdevs(rule.spec), ...via])) continue;
      add(`${chain.family === 'ipv4' ? 'iptables' : 'ip6tables'} ${chain.table}\t${chain.chain}`, rule.packets);
    }
  }
  for (const chain of fw.nft) {
    for (const rule of chain.rules) {
      if (!/"(drop|reject)"/.test(JSON.stringify(rule.expr))) continue;
      const packets = counterOf(rule.expr);
      if (packets === undefined) continue;
      if (!relevant([...nftDevices(rule.expr), ...(chain.device ? [chain.device] : [])])) continue;
      add(`nft ${chain.family} ${chain.table}\t${chain.chain}`, packets);
    }
  }
  return out;
}
