import type { Host } from '../host/host.js';
import { guestHost } from '../host/guest-agent.js';
import type { CommandError } from '../host/local.js';
import type { Interface, Namespace } from '../model/topology.js';
import { ipState, toInterface } from './iproute.js';
import { parseIptablesSave, parseNftRuleset } from './netfilter.js';

/**
 * The guest's network as a Namespace of the topology model, read with the
 * guest's own `ip -j` and `nft -j list ruleset` (and `iptables-save -c` where
 * the guest has it), so the path and the checks can treat the guest's NIC
 * like any other namespace's. id is `guest:DOMAIN`.
 */
export async function guestView(
  host: Host,
  uri: string | undefined,
  domain: string,
  options: { timeoutMs?: number } = {},
): Promise<Namespace> {
  const guest = guestHost(host, uri, domain);
  const ctx = { host: guest, netns: undefined };
  const state = await ipState(ctx);
  const interfaces: Interface[] = state.links.map((l) =>
    toInterface(l, state.addrs.get(l.ifname) ?? [], undefined, state.nsids, null),
  );
  const errors: string[] = [];
  const optional = async (argv: string[]): Promise<string> => {
    try {
      return (await guest.run(argv, { timeoutMs: options.timeoutMs ?? 15_000 })).stdout;
    } catch (err) {
      const line = err instanceof Error && 'oneLine' in err ? (err as CommandError).oneLine() : String(err);
      // A guest without nft or iptables simply has none of those rules.
      if (!/No such file or directory|not found/i.test(line)) errors.push(line);
      return '';
    }
  };
  if (state.rejected)
    errors.push(
      `ip -j in guest ${domain}: ${state.rejected} entries that are not interfaces, addresses or routes were left out`,
    );
  const [nftText, v4] = [await optional(['nft', '-j', 'list', 'ruleset']), await optional(['iptables-save', '-c'])];
  const iptables = parseIptablesSave(v4, 'ipv4');
  // iptables-nft's tables also show in nft: they are left to the iptables side, as netfilter.ts does.
  const managed = new Set(iptables.map((c) => `ip ${c.table}`));
  return {
    id: `guest:${domain}`,
    name: null,
    isRoot: false,
    enteredVia: `qemu guest agent of libvirt domain ${domain}`,
    collected: true,
    interfaces,
    bridges: [],
    routes: state.routes,
    neighbours: state.neighbours,
    firewall: { iptables, nft: parseNftRuleset(nftText, managed, errors), errors },
  };
}
