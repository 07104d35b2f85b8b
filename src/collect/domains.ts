import { existsSync, readFileSync } from 'node:fs';
import { isSessionUri, LIBVIRT_SYSTEM_SOCKETS } from './endpoints.js';
import type { Host } from '../host/host.js';
import type { Domain } from '../model/libvirt.js';
import type { Namespace } from '../model/topology.js';
import {
  daemonPath,
  netnsIdentity,
  optionValues,
  ownerOf,
  pickSocket,
  scanDaemons,
  type DaemonProcess,
  type DaemonScan,
} from './daemons.js';
import { guestHost } from '../host/guest-agent.js';
import { guestView } from './guest-agent.js';
import { parseProcNetTcp } from './sysfs.js';
import { listDomains } from './libvirt.js';

/**
 * The read-write socket of a libvirtd or virtqemud, as it was told: the
 * unix_sock_dir of its configuration file (--config/-f, else the system one
 * under /etc/libvirt), else /run/libvirt; libvirt-sock or virtqemud-sock in it.
 */
export function libvirtdSocket(
  argv: string[],
  program: 'libvirtd' | 'virtqemud',
  readConfig: (path: string) => string | undefined,
): string {
  const config = optionValues(argv, ['--config', '-f'])[0] ?? `/etc/libvirt/${program}.conf`;
  const dir = readConfig(config)?.match(/^\s*unix_sock_dir\s*=\s*"([^"]+)"/m)?.[1] ?? '/run/libvirt';
  return `${dir}/${program === 'libvirtd' ? 'libvirt-sock' : 'virtqemud-sock'}`;
}

export interface LibvirtConnection {
  uri: string;
  /** How it was found, for messages. */
  source: string;
}

/**
 * Which libvirt serves the host seen from `netns`, as virsh would be pointed
 * at it: LIBVIRT_DEFAULT_URI; qemu:///system when its socket exists; then a
 * libvirtd or virtqemud found by its process, through the socket its
 * configuration names (read through /proc/PID/root when it runs in its own
 * mount namespace). A socket whose daemon was found counts only for the
 * namespace that daemon runs in. Never qemu:///session as root: virsh would
 * start a session daemon for it. undefined = no libvirt to ask.
 */
export function libvirtConnection(
  netns: string | undefined,
  scan: DaemonScan = scanDaemons(),
): LibvirtConnection | undefined {
  const env = process.env['LIBVIRT_DEFAULT_URI'];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (env && !(root && isSessionUri(env))) return { uri: env, source: 'LIBVIRT_DEFAULT_URI' };
  const daemons = scan.processes
    .filter(
      (p): p is DaemonProcess & { program: 'libvirtd' | 'virtqemud' } =>
        p.program === 'libvirtd' || p.program === 'virtqemud',
    )
    .map((p) => ({
      process: p,
      sockets: [
        daemonPath(
          p,
          libvirtdSocket(p.argv, p.program, (f) => readText(daemonPath(p, f))),
        ),
      ],
    }));
  const candidates: Array<{ socket: string; owner?: DaemonProcess | undefined; uri: string; source: string }> =
    LIBVIRT_SYSTEM_SOCKETS.map((socket) => ({
      socket,
      uri: 'qemu:///system',
      source: 'qemu:///system',
    }));
  for (const d of daemons) {
    for (const socket of d.sockets)
      candidates.push({
        socket,
        owner: d.process,
        uri: `qemu+unix:///system?socket=${socket}`,
        source: `${d.process.program} pid ${d.process.pid}`,
      });
  }
  const existing = candidates
    .filter((c) => existsSync(c.socket))
    .map((c) => (c.owner ? c : { ...c, owner: ownerOf(c.socket, daemons) }));
  const chosen = pickSocket(existing, netnsIdentity(netns), !netns);
  return chosen ? { uri: chosen.uri, source: chosen.source } : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
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
export async function discoverDomains(
  host: Host,
  netns: string | undefined,
  root: Namespace,
  scan?: DaemonScan,
): Promise<DomainDiscovery | undefined> {
  const conn = libvirtConnection(netns, scan);
  const warnings: string[] = [];
  const env = process.env['LIBVIRT_DEFAULT_URI'];
  if (env && isSessionUri(env) && conn?.uri !== env)
    warnings.push(`LIBVIRT_DEFAULT_URI=${env} not used: a session URI as root would start a session daemon`);
  if (!conn || !host.hasProgram('virsh'))
    return warnings.length ? { domains: [], guests: [], uri: undefined, warnings } : undefined;
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
        warnings.push(
          `guest agent of ${d.name} not responding (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): its path stops at its tap`,
        );
        return;
      }
      // Listening sockets, so that diagnose probes the guest's services by default.
      try {
        const r = await guestHost(host, conn.uri, d.name).run(['grep', '-H', '.', '/proc/net/tcp', '/proc/net/tcp6'], {
          okCodes: 'any',
          timeoutMs: 5000,
        });
        guest.listeners = r.stdout
          .split('\n')
          .map(parseProcNetTcp)
          .filter((l): l is NonNullable<typeof l> => l !== undefined);
      } catch {
        /* no listeners known */
      }
      for (const nic of taps) {
        const mac = nic.mac?.toLowerCase();
        // By the MAC libvirt gave the NIC; a NIC whose MAC was changed inside the guest still has it as permaddr.
        const inGuest =
          guest.interfaces.find((i) => i.address?.toLowerCase() === mac) ??
          guest.interfaces.find((i) => i.permaddr?.toLowerCase() === mac);
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
