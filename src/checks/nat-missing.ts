import { sh, verbatim, withRemark } from '../util/shell.js';
import { iptablesDnatRules } from '../model/topology.js';
import { dnatMaps } from '../path/dnat.js';
import type { Check } from './types.js';
import { inNetns, nsById } from './util.js';

/**
 * A probe to a published address (tcp:PORT@ADDR) needs a DNAT rule that maps
 * ADDR:PORT to the target; look for it in iptables' nat table and in nft.
 */
export const natMissing: Check = {
  name: 'nat-missing',
  raises: ['nat-missing'],
  run({ topology, path, probes, targetAddresses }) {
    const published = probes.filter(
      (p) => p.port !== undefined && !targetAddresses.includes(p.address) && p.kind !== 'passive',
    );
    if (published.length === 0) return [];
    const root = path.hops[0]!;
    const ns = nsById(topology, root.netns);
    if (!ns?.firewall) return [];
    const dnatRules = iptablesDnatRules(ns).map((r) => r.spec);
    const nftDnat = ns.firewall.nft.flatMap((c) => c.rules.filter((r) => JSON.stringify(r.expr).includes('"dnat"')));
    return published.flatMap((p) => {
      // Only rules for this probe's destination count: another port's or another address's rule maps nothing here.
      const query = {
        port: p.port!,
        destination: p.address,
        ...(p.kind === 'tcp' || p.kind === 'udp' ? { proto: p.kind } : {}),
      };
      const maps = targetAddresses.length ? dnatRules.filter((spec) => dnatMaps(spec, query, targetAddresses)) : [];
      if (maps.length > 0 || nftDnat.some((r) => nftDnatMaps(r.expr, query))) return [];
      // Docker says it publishes this port: the rule dockerd wrote is gone (flushed, or an iptables restore).
      const owner = (topology.docker?.containers ?? []).flatMap((c) =>
        c.ports
          .filter(
            (x) =>
              x.publicPort === p.port &&
              (!x.hostIp || x.hostIp === '0.0.0.0' || x.hostIp === '::' || x.hostIp === p.address),
          )
          .map((x) => ({
            c,
            x,
            ep: c.endpoints.find((e) => e.ipAddress && targetAddresses.includes(e.ipAddress)) ?? c.endpoints[0],
          })),
      )[0];
      const to = owner
        ? `${owner.ep?.ipAddress ?? targetAddresses[0]}:${owner.x.privatePort}`
        : `${targetAddresses[0]}:${p.port}`;
      const bridge = owner?.ep?.bridge ?? 'docker0';
      return [
        {
          id: 'nat-missing' as const,
          confidence: 0.9,
          device: { netns: root.netns, ifname: root.ifname },
          summary: `nothing maps ${p.address}:${p.port} to ${targetAddresses[0]}: the published port has no DNAT rule`,
          evidence: [
            `iptables -t nat DNAT rules in ${root.netns}: ${dnatRules.length ? dnatRules.join(' | ') : 'none'}`,
            `probe ${p.command}: ${p.answered}/${p.sent} answered (${p.outcome})`,
            ...(owner
              ? [
                  `Docker (${topology.docker!.endpoint}) publishes ${owner.x.hostIp ?? '0.0.0.0'}:${owner.x.publicPort}->${owner.x.privatePort}/${owner.x.type} for container ${owner.c.name}: its DNAT rule is missing from nat/DOCKER`,
                ]
              : []),
          ],
          fix: [
            inNetns(
              root.netns,
              sh`iptables -t nat -A DOCKER${verbatim(p.address ? sh` -d ${`${p.address}/32`}` : '')} ! -i ${bridge} -p ${p.kind === 'udp' ? 'udp' : 'tcp'} -m ${p.kind === 'udp' ? 'udp' : 'tcp'} --dport ${p.port!} -j DNAT --to-destination ${to}`,
            ),
            owner
              ? withRemark(
                  sh`docker${verbatim(topology.docker!.endpoint === 'unix:///var/run/docker.sock' ? '' : sh` -H ${topology.docker!.endpoint}`)} restart ${owner.c.name}`,
                  "dockerd writes the port's rules again when the container starts",
                )
              : '# on a Docker host: recreate the container with -p, or restart dockerd to restore its rules',
          ],
        },
      ];
    });
  },
};

/**
 * Whether an nft rule (its JSON expressions) DNATs the query: a dnat statement, and its matches on
 * the destination port and address (where it has them) admit the probe's.
 */
export function nftDnatMaps(expr: unknown[], q: { port: number; destination?: string }): boolean {
  let dnat = false;
  for (const e of expr as Array<Record<string, unknown>>) {
    if ('dnat' in e) dnat = true;
    const m = e['match'] as { op?: string; left?: { payload?: { field?: string } }; right?: unknown } | undefined;
    const field = m?.left?.payload?.field;
    if (!m || !field || (m.op !== '==' && m.op !== 'in')) continue;
    if (field === 'dport' && !nftValueHas(m.right, q.port)) return false;
    if (field === 'daddr' && q.destination && typeof m.right === 'string' && m.right !== q.destination) return false;
  }
  return dnat;
}

function nftValueHas(right: unknown, port: number): boolean {
  if (typeof right === 'number') return right === port;
  const set = (right as { set?: unknown[] } | undefined)?.set;
  if (Array.isArray(set)) return set.some((v) => nftValueHas(v, port));
  const range = (right as { range?: [number, number] } | undefined)?.range;
  if (Array.isArray(range)) return range[0] <= port && port <= range[1];
  return true;
}
