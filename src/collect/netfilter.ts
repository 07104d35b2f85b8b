import type { Firewall, IptablesChain, NftChain } from '../model/topology.js';
import { CommandError } from '../host/local.js';
import { z } from 'zod';
import { runIn, type CollectContext } from './context.js';

/** The parts of nft's JSON that hopdump reads, checked before use (a guest's nft is not trusted). */
const NftRulesetSchema = z.object({
  nftables: z.array(
    z
      .object({
        chain: z
          .object({
            family: z.string(),
            table: z.string(),
            name: z.string(),
            type: z.string().optional(),
            hook: z.string().optional(),
            dev: z.string().optional(),
            prio: z.number().optional(),
            policy: z.string().optional(),
          })
          .passthrough()
          .optional(),
        rule: z
          .object({
            family: z.string(),
            table: z.string(),
            chain: z.string(),
            handle: z.number().int(),
            expr: z.array(z.unknown()).optional(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough(),
  ),
});

/**
 * Firewall state of a namespace: iptables and ip6tables through
 * `iptables-save -c` (iptables' own machine format; there is no JSON), and
 * native nftables tables through `nft -j list ruleset`. Tables that
 * iptables-nft manages also show up in nft; they are left to the iptables side.
 */
export async function firewall(ctx: CollectContext): Promise<Firewall> {
  const errors: string[] = [];
  const attempt = async (argv: string[]): Promise<string> => {
    try {
      return await runIn(ctx, argv);
    } catch (err) {
      errors.push(err instanceof CommandError ? err.oneLine() : String(err));
      return '';
    }
  };
  // With the nf_tables backend (Debian's default) every iptables table is
  // also an nft table: ask iptables-save only for the families that have one.
  const nftText = await attempt(['nft', '-j', 'list', 'ruleset']);
  const families = nftFamilies(nftText);
  const legacy = await iptablesIsLegacy(ctx);
  const [v4, v6] = await Promise.all([
    legacy || families.has('ip') ? attempt(['iptables-save', '-c']) : Promise.resolve(''),
    legacy || families.has('ip6') ? attempt(['ip6tables-save', '-c']) : Promise.resolve(''),
  ]);
  const iptables = [...parseIptablesSave(v4, 'ipv4'), ...parseIptablesSave(v6, 'ipv6')];
  const managed = new Set(iptables.map((c) => `${c.family === 'ipv4' ? 'ip' : 'ip6'} ${c.table}`));
  return { iptables, nft: parseNftRuleset(nftText, managed, errors), errors };
}

function nftFamilies(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/"table": \{"family": "(\w+)"/g)) out.add(m[1]!);
  return out;
}

let legacyCache: Promise<boolean> | undefined;
/** `iptables -V` says "(legacy)" or "(nf_tables)"; legacy rules are invisible to nft. */
function iptablesIsLegacy(ctx: CollectContext): Promise<boolean> {
  legacyCache ??= ctx.host
    .run(['iptables', '-V'], { okCodes: 'any' })
    .then((r) => r.stdout.includes('legacy'))
    .catch(() => false);
  return legacyCache;
}

/** Parses `iptables-save -c`: "*table", ":CHAIN POLICY [p:b]", "[p:b] -A CHAIN ...". */
export function parseIptablesSave(text: string, family: 'ipv4' | 'ipv6'): IptablesChain[] {
  const chains: IptablesChain[] = [];
  let table = '';
  const byName = new Map<string, IptablesChain>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      byName.clear();
      continue;
    }
    let m = line.match(/^:(\S+) (\S+) \[(\d+):(\d+)\]$/);
    if (m) {
      const chain: IptablesChain = {
        family,
        table,
        chain: m[1]!,
        policy: m[2] === '-' ? null : m[2]!,
        packets: Number(m[3]),
        bytes: Number(m[4]),
        rules: [],
      };
      chains.push(chain);
      byName.set(chain.chain, chain);
      continue;
    }
    m = line.match(/^\[(\d+):(\d+)\] (-A (\S+) .*)$/);
    if (m) {
      const chain = byName.get(m[4]!);
      const spec = m[3]!;
      const target = spec.match(/ -j (\S+)/)?.[1];
      chain?.rules.push({ spec, packets: Number(m[1]), bytes: Number(m[2]), ...(target ? { target } : {}) });
    }
  }
  return chains;
}

interface NftItem {
  chain?: {
    family: string;
    table: string;
    name: string;
    type?: string;
    hook?: string;
    dev?: string;
    prio?: number;
    policy?: string;
  };
  rule?: { family: string; table: string; chain: string; handle: number; expr?: unknown[] };
}

/**
 * Native nft chains and their rules from `nft -j list ruleset`. Output that is not the JSON nft
 * writes (a guest's or container's nft, a version that prints otherwise) is not taken as "no
 * rules": it is said in `errors`, which discovery turns into a notice of the report.
 */
export function parseNftRuleset(text: string, managedByIptables: Set<string>, errors: string[] = []): NftChain[] {
  if (!text.trim()) return [];
  let items: NftItem[];
  try {
    const parsed = NftRulesetSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      errors.push(
        `nft -j list ruleset: not the JSON nft writes (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}): its rules were not read`,
      );
      return [];
    }
    items = parsed.data.nftables as NftItem[];
  } catch (err) {
    errors.push(
      `nft -j list ruleset: malformed JSON (${err instanceof Error ? err.message : String(err)}): its rules were not read`,
    );
    return [];
  }
  const chains = new Map<string, NftChain>();
  const k = (family: string, table: string, chain: string) => `${family} ${table} ${chain}`;
  for (const item of items) {
    const c = item.chain;
    if (!c || managedByIptables.has(`${c.family} ${c.table}`)) continue;
    chains.set(k(c.family, c.table, c.name), {
      family: c.family,
      table: c.table,
      chain: c.name,
      ...(c.type ? { type: c.type } : {}),
      ...(c.hook ? { hook: c.hook } : {}),
      ...(c.dev ? { device: c.dev } : {}),
      ...(c.prio !== undefined ? { prio: c.prio } : {}),
      ...(c.policy ? { policy: c.policy } : {}),
      rules: [],
    });
  }
  for (const item of items) {
    const r = item.rule;
    if (!r) continue;
    chains.get(k(r.family, r.table, r.chain))?.rules.push({ handle: r.handle, expr: r.expr ?? [] });
  }
  return [...chains.values()];
}
