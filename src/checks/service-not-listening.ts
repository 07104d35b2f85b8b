import { remark, sh } from '../util/shell.js';
import type { Check } from './types.js';
import { hopName, inNetns, servesFamily } from './util.js';

/** The target answers TCP with RST: the port has no listener (or the service refuses). */
export const serviceNotListening: Check = {
  name: 'service-not-listening',
  raises: ['service-not-listening'],
  run({ correlation, path, topology, targetAddresses, probes }) {
    // A refusal is RST+ACK, the answer to a SYN. A bare RST answers a segment of a
    // connection that is already gone (a late FIN or ACK after the server closed):
    // ordinary on a healthy, loaded host, and no sign of a missing listener.
    const rsts = correlation.target.rstFromTarget.filter(
      (p) => p.src && targetAddresses.includes(p.src) && p.tcpFlags?.includes('.'),
    );
    if (rsts.length === 0) return [];
    // Every connection to that port was answered: whatever sent the RST, the service listens.
    const refusedPort = (port: number | undefined) =>
      !probes.some((pr) => pr.kind === 'tcp' && pr.port === port) ||
      probes.some((pr) => pr.kind === 'tcp' && pr.port === port && pr.outcome !== 'answered');
    if (!rsts.some((p) => refusedPort(p.srcPort))) return [];
    const nic = path.hops[path.hops.length - 1]!;
    const ports = [...new Set(rsts.map((p) => p.srcPort).filter((x): x is number => x !== undefined))];
    const ns = topology.namespaces.find((n) => n.id === path.target.netns);
    const evidence = rsts
      .slice(0, 3)
      .map(
        (p) =>
          `TCP RST ${p.src}:${p.srcPort} > ${p.dst}:${p.dstPort} from MAC ${p.srcMac ?? '?'} seen at ${hopName(path.hops[p.hop])}`,
      );
    if (ns?.listeners) {
      for (const port of ports) {
        const l = ns.listeners.find((x) => x.port === port);
        const dst = rsts.find((p) => p.srcPort === port)?.src ?? targetAddresses[0] ?? '';
        if (!l) evidence.push(`no TCP listener on port ${port} in ${ns.id} (/proc/net/tcp)`);
        else if (dst && !ns.listeners.some((x) => x.port === port && servesFamily(x, dst)))
          evidence.push(
            `${ns.id} listens on ${l.address}:${port} only, which does not take connections to ${dst} (IPv4 and IPv6 sockets are separate)`,
          );
        else evidence.push(`${ns.id} has a listener on ${l.family === 'inet6' ? `[${l.address}]` : l.address}:${port}`);
      }
    }
    return [
      {
        id: 'service-not-listening',
        confidence: 0.9,
        device: { netns: nic.netns, ifname: nic.ifname },
        summary: `${targetAddresses[0]} answers TCP port ${ports.join(', ')} with RST: nothing listens there`,
        evidence,
        fix: ports.flatMap((port) => [
          inNetns(nic.netns, sh`ss -ltnp ${`sport = :${port}`}`),
          remark(`start the service that should listen on ${port}, or probe the right port`),
        ]),
      },
    ];
  },
};
