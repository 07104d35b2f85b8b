import { existsSync } from 'node:fs';
import type { Host } from '../host/host.js';
import type { Domain } from '../model/libvirt.js';
import type { Namespace } from '../model/topology.js';
import { guestHost, guestView } from './guest-agent.js';
import { parseProcNetTcp } from './sysfs.js';
import { listDomains } from './libvirt.js';

/** hopdump's lab keeps each namespace's private libvirtd here (src/lab/libvirt.ts). */
const LAB_LIBVIRT_DIR = '/run/hopdump/libvirt';

/**
 * Which libvirtd serves the host seen from `netns`: the lab's private one, or
 * for the host itself LIBVIRT_DEFAULT_URI's (or libvirt's default when its
 * socket exists), as virsh finds it. undefined = no libvirt to ask.
 */
export function libvirtConnection(netns: string | undefined): { uri: string | undefined } | undefined {
  if (netns) {
    const sock = `${LAB_LIBVIRT_DIR}/${netns}/sock/libvirt-sock`;
    return existsSync(sock) ? { uri: `qemu+unix:///system?socket=${sock}` } : undefined;
  }
  if (process.env['LIBVIRT_DEFAULT_URI']) return { uri: undefined };
  for (const s of ['/run/libvirt/libvirt-sock', '/run/libvirt/virtqemud-sock']) if (existsSync(s)) return { uri: undefined };
  return undefined;
}

export interface DomainDiscovery {
  domains: Domain[];
  /** One namespace per running domain whose guest agent answered (id guest:NAME). */
  guests: Namespace[];
  /** The URI asked (undefined = virsh's own default / LIBVIRT_DEFAULT_URI). */
  uri: string | undefined;
  warnings: string[];
}

/**
 * libvirt's domains, and for each running one with a guest agent, the guest's
 * own view of its network (through qemu-guest-agent, every call bounded).
 * The guest's NIC is joined to its tap like a veth to its peer: the domain
 * XML's MAC names the NIC on both sides.
 */
export async function discoverDomains(host: Host, netns: string | undefined, root: Namespace): Promise<DomainDiscovery | undefined> {
  const conn = libvirtConnection(netns);
  if (!conn || !host.hasProgram('virsh')) return undefined;
  const warnings: string[] = [];
  const domains = await listDomains(host, { ...(conn.uri ? { uri: conn.uri } : {}), timeoutMs: 10_000 });
  const guests: Namespace[] = [];
  await Promise.all(
    domains.map(async (d) => {
      const taps = d.interfaces.filter((i) => i.targetDev && root.interfaces.some((x) => x.ifname === i.targetDev));
      if (d.state !== 'running' || taps.length === 0) return;
      if (!d.guestAgentChannel) {
        warnings.push(`domain ${d.name} has no guest agent channel: its path stops at its tap`);
        return;
      }
      let guest: Namespace;
      try {
        guest = await guestView(host, conn.uri, d.name, { timeoutMs: 8000 });
      } catch (err) {
        warnings.push(`guest agent of ${d.name} not responding (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): its path stops at its tap`);
        return;
      }
      // Listening sockets, so that diagnose probes the guest's services by default.
      try {
        const r = await guestHost(host, conn.uri, d.name).run(['grep', '-H', '.', '/proc/net/tcp', '/proc/net/tcp6'], { okCodes: 'any', timeoutMs: 5000 });
        guest.listeners = r.stdout.split('\n').map(parseProcNetTcp).filter((l): l is NonNullable<typeof l> => l !== undefined);
      } catch {
        /* no listeners known */
      }
      for (const nic of taps) {
        const mac = nic.mac?.toLowerCase();
        // By the MAC libvirt gave the NIC; a NIC whose MAC was changed inside the guest still has it as permaddr.
        const inGuest =
          guest.interfaces.find((i) => i.address?.toLowerCase() === mac) ?? guest.interfaces.find((i) => i.permaddr?.toLowerCase() === mac);
        const tap = root.interfaces.find((x) => x.ifname === nic.targetDev)!;
        if (!inGuest) {
          warnings.push(`domain ${d.name}: no NIC with MAC ${mac} inside the guest (its tap is ${tap.ifname})`);
          continue;
        }
        tap.peer = { netns: guest.id, ifindex: inGuest.ifindex, ifname: inGuest.ifname };
        inGuest.peer = { netns: root.id, ifindex: tap.ifindex, ifname: tap.ifname };
      }
      guests.push(guest);
    }),
  );
  return { domains, guests, uri: conn.uri, warnings };
}
