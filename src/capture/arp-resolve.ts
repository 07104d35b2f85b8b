import { prefixContains } from '../model/ip.js';
import type { Host } from '../host/host.js';
import type { Topology } from '../model/topology.js';
import type { Path } from '../model/path.js';

export interface ArpResolution {
  /** The candidate the answer was learned on, when it was one of them. */
  backend?: { netns: string; ifname: string; why: string };
  /** One line for the report: what was sent, from where, and what came back. */
  notice: string;
}

/**
 * One ARP request (IPv6: neighbour solicitation) for a silent guest's address,
 * sent on the bridge or routed device the path ends at, and the bridge port
 * its answer is learned on (the bridge's FDB). The sender address is the
 * host's own in that prefix; without one it is an ARP probe (sender 0.0.0.0,
 * RFC 5227), which a guest answers without learning a bogus neighbour.
 * Habets' arping (Debian's `arping`): -S sets the sender, -0 is 0.0.0.0, -r
 * prints the answering MAC only. NS: the kernel's own, triggered by one ping
 * from that device (no NDP tool is assumed), read back from the neighbour table.
 */
export async function resolveByArp(
  host: Host,
  topology: Topology,
  path: Path,
  address: string,
): Promise<ArpResolution> {
  const ns = topology.namespaces.find((n) => n.id === path.target.netns);
  const dev = ns?.interfaces.find((i) => i.ifname === path.target.ifname);
  if (!ns || !dev) return { notice: `ARP: ${path.target.netns}/${path.target.ifname} not found; nothing sent` };
  const netns = ns.isRoot ? topology.root || undefined : (ns.name ?? (ns.id.startsWith('pid:') ? ns.id : undefined));
  const opts = { ...(netns ? { netns } : {}), okCodes: 'any' as const, timeoutMs: 5000 };
  const v6 = address.includes(':');
  const own = dev.addresses.find(
    (a) =>
      (a.family === 'inet6') === v6 &&
      a.scope !== 'link' &&
      prefixContains(`${a.local}/${a.prefixlen}`, address).contains,
  )?.local;
  let mac: string | undefined;
  let sent: string;
  if (!v6) {
    if (!host.hasProgram('arping'))
      return { notice: 'ARP: arping is not installed; no ARP request sent (apt install arping)' };
    const argv = ['arping', '-r', '-c', '1', '-w', '2', '-i', dev.ifname, ...(own ? ['-S', own] : ['-0']), address];
    const r = await host.run(argv, opts);
    mac = r.stdout.match(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i)?.[1]?.toLowerCase();
    sent = `one ARP request for ${address} sent on ${ns.id}/${dev.ifname} from ${own ?? '0.0.0.0 (an ARP probe: the host has no address in that prefix)'} (${argv.join(' ')})`;
  } else {
    await host.run(['ping', '-6', '-n', '-c', '1', '-W', '1', '-I', dev.ifname, address], opts);
    const r = await host.run(['ip', '-j', 'neigh', 'show', 'to', address, 'dev', dev.ifname], opts);
    const entries = JSON.parse(r.stdout.trim() || '[]') as Array<{ lladdr?: string }>;
    mac = entries.find((e) => e.lladdr)?.lladdr?.toLowerCase();
    sent = `one neighbour solicitation for ${address} sent by the kernel on ${ns.id}/${dev.ifname} (ping -6 -c 1 -I ${dev.ifname})`;
  }
  if (!mac) return { notice: `${sent}: no answer` };
  let port: string | undefined;
  if (dev.kind === 'bridge') {
    const r = await host.run(['bridge', '-j', 'fdb', 'show', 'br', dev.ifname], opts);
    const fdb = JSON.parse(r.stdout.trim() || '[]') as Array<{
      mac: string;
      ifname: string;
      state?: string;
      flags?: string[];
    }>;
    port = fdb.find(
      (e) => e.mac.toLowerCase() === mac && e.state !== 'permanent' && !(e.flags ?? []).includes('self'),
    )?.ifname;
  } else {
    port = dev.ifname;
  }
  const candidate = port ? path.candidates?.find((c) => c.netns === ns.id && c.ifname === port) : undefined;
  const answer = `answered by ${mac}${port ? `, learned by ${dev.ifname} on ${port}` : `, which ${dev.ifname}'s FDB does not have`}`;
  if (!candidate) return { notice: `${sent}: ${answer}${port ? ' (not one of the candidates)' : ''}` };
  return {
    backend: {
      netns: ns.id,
      ifname: port!,
      why: `${address} answered ARP/NS from ${mac}, learned by ${dev.ifname} on ${port}`,
    },
    notice: `${sent}: ${answer}`,
  };
}
