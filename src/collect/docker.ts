import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import type { Container, DockerNetwork, DockerPort, DockerState } from '../model/docker.js';
import type { Namespace } from '../model/topology.js';

/** Where the lab starts its private dockerd, one per hypervisor namespace (src/lab/docker.ts). */
export const LAB_DOCKER_DIR = '/run/hopdump/docker';
const DEFAULT_SOCKET = '/var/run/docker.sock';
const API_TIMEOUT_MS = 5000;

/**
 * Which Docker Engine serves the host seen from `netns`, the way the docker CLI
 * picks one: for a lab namespace its private dockerd; else DOCKER_HOST
 * (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh://, handled by
 * docker-modem exactly as the CLI reads them); else, for the host itself, the
 * default socket when it exists. undefined = no Docker to ask.
 */
export function dockerConnection(netns: string | undefined): { endpoint: string; options: Docker.DockerOptions } | undefined {
  if (netns) {
    const sock = `${LAB_DOCKER_DIR}/${netns}/docker.sock`;
    if (existsSync(sock)) return { endpoint: `unix://${sock}`, options: { socketPath: sock, timeout: API_TIMEOUT_MS } };
  }
  const env = process.env['DOCKER_HOST'];
  if (env) return { endpoint: env, options: { timeout: API_TIMEOUT_MS } };
  if (!netns && existsSync(DEFAULT_SOCKET)) return { endpoint: `unix://${DEFAULT_SOCKET}`, options: { socketPath: DEFAULT_SOCKET, timeout: API_TIMEOUT_MS } };
  return undefined;
}

/** Containers (all, running or not) and networks from the Engine API. Read-only calls only. */
export async function readDocker(conn: { endpoint: string; options: Docker.DockerOptions }): Promise<DockerState> {
  const docker = new Docker(conn.options);
  const [version, list, nets] = await Promise.all([
    docker.version().catch(() => undefined),
    docker.listContainers({ all: true }),
    docker.listNetworks(),
  ]);
  const inspected = await Promise.all(
    list.map((c) => (c.State === 'running' ? docker.getContainer(c.Id).inspect().catch(() => undefined) : Promise.resolve(undefined))),
  );
  return {
    endpoint: conn.endpoint,
    ...(version?.Version ? { version: version.Version } : {}),
    containers: list.map((c, i) => containerOf(c, inspected[i])),
    networks: nets.map(networkOf),
  };
}

export function containerOf(c: Docker.ContainerInfo, inspect: Docker.ContainerInspectInfo | undefined): Container {
  const ports: DockerPort[] = [];
  for (const p of c.Ports ?? []) {
    const type = (['tcp', 'udp', 'sctp'] as const).find((t) => t === p.Type) ?? 'tcp';
    // The API lists a port once per host address family (0.0.0.0 and ::): keep one of each binding.
    if (ports.some((x) => x.privatePort === p.PrivatePort && x.publicPort === p.PublicPort && x.type === type && x.hostIp === p.IP)) continue;
    ports.push({ privatePort: p.PrivatePort, ...(p.PublicPort ? { publicPort: p.PublicPort } : {}), ...(p.IP ? { hostIp: p.IP } : {}), type });
  }
  const networks = c.NetworkSettings?.Networks ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    pid: inspect?.State?.Pid ?? 0,
    networkMode: c.HostConfig?.NetworkMode ?? 'default',
    endpoints: Object.entries(networks).map(([name, n]) => ({
      network: name,
      networkId: n.NetworkID,
      ...(n.IPAddress ? { ipAddress: n.IPAddress, prefixLen: n.IPPrefixLen } : {}),
      ...(n.MacAddress ? { macAddress: n.MacAddress.toLowerCase() } : {}),
      ...(n.Gateway ? { gateway: n.Gateway } : {}),
    })),
    ports,
  };
}

export function networkOf(n: Docker.NetworkInspectInfo): DockerNetwork {
  const bridge = n.Driver === 'bridge' ? (n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`) : undefined;
  // macvlan's mode defaults to bridge, ipvlan's to l2 (docker network create -o macvlan_mode / ipvlan_mode).
  const direct = n.Driver === 'macvlan' || n.Driver === 'ipvlan';
  const parent = direct ? n.Options?.['parent'] : undefined;
  const mode = n.Driver === 'macvlan' ? (n.Options?.['macvlan_mode'] ?? 'bridge') : n.Driver === 'ipvlan' ? (n.Options?.['ipvlan_mode'] ?? 'l2') : undefined;
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    ...(bridge ? { bridge } : {}),
    ...(parent ? { parent } : {}),
    ...(mode ? { mode } : {}),
    subnets: (n.IPAM?.Config ?? []).filter((x) => x.Subnet).map((x) => ({ subnet: x.Subnet!, ...(x.Gateway ? { gateway: x.Gateway } : {}) })),
  };
}

/**
 * Joins each endpoint to the namespace and NIC that carry its MAC (and
 * address), and to the host-side veth peer and its bridge. Containers in the
 * host's network (NetworkMode host) have no endpoint of their own.
 */
export function joinContainers(state: DockerState, namespaces: Namespace[]): void {
  for (const c of state.containers) {
    for (const e of c.endpoints) {
      if (!e.macAddress) continue;
      for (const ns of namespaces) {
        if (ns.isRoot) continue;
        const nic = ns.interfaces.find(
          (i) => i.address?.toLowerCase() === e.macAddress && (!e.ipAddress || i.addresses.some((a) => a.local === e.ipAddress)),
        );
        if (!nic) continue;
        e.netns = ns.id;
        e.ifname = nic.ifname;
        // The veth end that points back at this NIC (its namespace may have no name to match on).
        const veth = nic.peer
          ? namespaces
              .filter((n) => n !== ns && (!nic.peer!.netns || n.id === nic.peer!.netns || n.name === nic.peer!.netns || n.isRoot))
              .flatMap((n) => n.interfaces)
              .find((i) => i.ifindex === nic.peer!.ifindex && i.peer?.ifindex === nic.ifindex)
          : undefined;
        if (veth) {
          e.hostVeth = veth.ifname;
          if (veth.master) e.bridge = veth.master;
        }
        // A macvlan/ipvlan network's NIC hangs off the host's parent device, with no bridge.
        if (nic.lower) {
          if (nic.lower.ifname) e.lowerDevice = nic.lower.ifname;
          if (nic.mode) e.mode = nic.mode;
        }
        break;
      }
      const net = state.networks.find((n) => n.id === e.networkId);
      if (!e.bridge && net?.bridge) e.bridge = net.bridge;
      if (!e.lowerDevice && net?.parent) e.lowerDevice = net.parent;
      if (!e.mode && net?.mode) e.mode = net.mode;
    }
  }
}
