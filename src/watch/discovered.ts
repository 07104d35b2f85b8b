import type { Topology } from '../model/topology.js';
import type { WatchTargetConfig } from './config.js';

/**
 * `discover: true`: every guest and container that discovery finds, as targets with the default
 * probe (icmp), named as an operator names them: a libvirt domain by its name (DOMAIN:MAC for each
 * NIC of a domain that has several), a Docker or Podman container by its name, a Neutron port by
 * its UUID (when no libvirt domain already stands for it). Only running ones, with a NIC to follow.
 * Targets named in the config come first; a discovered one with the same name is left out.
 */
export function discoveredTargets(topology: Topology, netns: string | undefined): WatchTargetConfig[] {
  const out: WatchTargetConfig[] = [];
  const base = netns ? { netns } : {};
  const macs = new Set<string>();
  for (const d of topology.domains ?? []) {
    if (d.state !== 'running') continue;
    const nics = d.interfaces.filter((i) => i.targetDev && i.mac);
    for (const nic of nics) {
      macs.add(nic.mac!.toLowerCase());
      const target = nics.length > 1 ? `${d.name}:${nic.mac!.toLowerCase()}` : d.name;
      out.push({ target, name: target, ...base });
    }
  }
  for (const state of [topology.docker, topology.podman])
    for (const c of state?.containers ?? []) {
      if (c.state !== 'running' || !c.endpoints.some((e) => e.ipAddress)) continue;
      out.push({ target: c.name, name: c.name, ...base });
    }
  for (const ns of topology.namespaces)
    for (const br of ns.ovs?.bridges ?? [])
      for (const p of br.ports)
        for (const i of p.interfaces) {
          const port = i.external_ids['iface-id'];
          const mac = i.external_ids['attached-mac']?.toLowerCase();
          if (!port || (mac && macs.has(mac))) continue;
          out.push({ target: port, name: port, ...base });
        }
  const seen = new Set<string>();
  return out.filter((t) => !seen.has(t.name!) && seen.add(t.name!));
}

/** The config's targets, then the discovered ones whose names they do not already use. */
export function mergeTargets(configured: WatchTargetConfig[], found: WatchTargetConfig[]): WatchTargetConfig[] {
  const names = new Set(configured.map((t) => t.name ?? t.target));
  return [...configured, ...found.filter((t) => !names.has(t.name!))];
}
