import { DOCKER_DEFAULT_SOCKET, PODMAN_SOCKET } from './endpoints.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import Docker from 'dockerode';
import type { Container, DockerNetwork, DockerPort, DockerState } from '../model/docker.js';
import { vethPeerOf, type Namespace } from '../model/topology.js';
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

const API_TIMEOUT_MS = 5000;

export interface DockerConnection {
  endpoint: string;
  options: Docker.DockerOptions;
  /** How it was found, for messages. */
  source: string;
}

/** The unix sockets a dockerd listens on: -H/--host unix://PATH, fd:// (systemd's socket), else daemon.json's hosts, else the default. */
export function dockerdSockets(argv: string[], readConfig: (path: string) => string | undefined = readText): string[] {
  let hosts = optionValues(argv, ['-H', '--host']);
  if (hosts.length === 0) {
    const config = optionValues(argv, ['--config-file'])[0] ?? '/etc/docker/daemon.json';
    try {
      const parsed = JSON.parse(readConfig(config) ?? '{}') as { hosts?: unknown };
      if (Array.isArray(parsed.hosts)) hosts = parsed.hosts.filter((h): h is string => typeof h === 'string');
    } catch {
      /* no readable daemon.json: the default */
    }
  }
  if (hosts.length === 0) hosts = [`unix://${DOCKER_DEFAULT_SOCKET}`];
  return hosts.flatMap((h) =>
    h.startsWith('unix://') ? [h.slice('unix://'.length)] : h.startsWith('fd://') ? [DOCKER_DEFAULT_SOCKET] : [],
  );
}

/** The socket of `podman system service [URI]` (default: the system one). */
export function podmanSockets(argv: string[]): string[] {
  const i = argv.indexOf('service');
  const uri = argv.slice(i + 1).find((a) => !a.startsWith('-') && a.includes('://'));
  if (!uri) return [PODMAN_SOCKET];
  return uri.startsWith('unix://') ? [uri.slice('unix://'.length)] : [];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The Docker host the current docker context names, as the docker CLI reads
 * it: DOCKER_CONTEXT, else currentContext in DOCKER_CONFIG/config.json
 * (default ~/.docker), whose endpoint is in
 * contexts/meta/<sha256 of the name>/meta.json (Endpoints.docker.Host).
 * undefined for the "default" context (the CLI's own default host).
 */
export function dockerContextHost(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): { context: string; host: string } | undefined {
  const dir = env['DOCKER_CONFIG'] || `${home}/.docker`;
  let context = env['DOCKER_CONTEXT'];
  if (!context) {
    try {
      context = (JSON.parse(readText(`${dir}/config.json`) ?? '{}') as { currentContext?: string }).currentContext;
    } catch {
      return undefined;
    }
  }
  if (!context || context === 'default') return undefined;
  const hash = createHash('sha256').update(context).digest('hex');
  try {
    const meta = JSON.parse(readText(`${dir}/contexts/meta/${hash}/meta.json`) ?? '{}') as {
      Endpoints?: { docker?: { Host?: string } };
    };
    const host = meta.Endpoints?.docker?.Host;
    return host ? { context, host } : undefined;
  } catch {
    return undefined;
  }
}

/** dockerode options for a Docker host URL (unix://, tcp://, ssh://). */
function optionsFor(host: string): Docker.DockerOptions | undefined {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), timeout: API_TIMEOUT_MS };
  try {
    const u = new URL(host);
    if (u.protocol === 'tcp:')
      return { protocol: 'http', host: u.hostname, port: Number(u.port || 2375), timeout: API_TIMEOUT_MS };
    if (u.protocol === 'ssh:')
      return {
        protocol: 'ssh',
        host: u.hostname,
        ...(u.port ? { port: Number(u.port) } : {}),
        ...(u.username ? { username: u.username } : {}),
        timeout: API_TIMEOUT_MS,
      };
  } catch {
    /* not a URL */
  }
  return undefined;
}

/**
 * Which Docker Engine (or Podman's Docker-compatible API) serves the host seen
 * from `netns`, in the order the docker CLI would pick one, then by process:
 * DOCKER_HOST (unix://, tcp:// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh://,
 * read by docker-modem as the CLI reads them); the current docker context;
 * the default socket; $XDG_RUNTIME_DIR/docker.sock (rootless); Podman's
 * socket; then a dockerd or `podman system service` found by its process, its
 * -H unix:// socket read through /proc/PID/root when it runs in another mount
 * namespace. A socket whose daemon was found counts only for the namespace
 * that daemon runs in (so with --netns it is that namespace's dockerd).
 * undefined = no Docker to ask.
 */
export function dockerConnection(
  netns: string | undefined,
  scan: DaemonScan = scanDaemons(),
): DockerConnection | undefined {
  const env = process.env['DOCKER_HOST'];
  if (env) return { endpoint: env, options: { timeout: API_TIMEOUT_MS }, source: 'DOCKER_HOST' };
  const ctx = dockerContextHost();
  const ctxOptions = ctx ? optionsFor(ctx.host) : undefined;
  if (ctx && ctxOptions) return { endpoint: ctx.host, options: ctxOptions, source: `docker context ${ctx.context}` };
  const daemons = scan.processes
    .filter((p) => p.program === 'dockerd' || p.program === 'podman')
    .map((p) => ({
      process: p,
      sockets: (p.program === 'dockerd'
        ? dockerdSockets(p.argv, (f) => readText(daemonPath(p, f)))
        : podmanSockets(p.argv)
      ).map((s) => daemonPath(p, s)),
    }));
  const candidates: Array<{ socket: string; explicit?: boolean; owner?: DaemonProcess | undefined; source: string }> = [
    { socket: DOCKER_DEFAULT_SOCKET, source: 'default socket' },
  ];
  const xdg = process.env['XDG_RUNTIME_DIR'];
  // A rootless dockerd runs in rootlesskit's own network namespace: its socket is the user's, not a namespace's.
  if (xdg && !netns) candidates.push({ socket: `${xdg}/docker.sock`, explicit: true, source: 'rootless socket' });
  candidates.push({ socket: PODMAN_SOCKET, source: 'Podman socket' });
  for (const d of daemons)
    for (const socket of d.sockets)
      candidates.push({ socket, owner: d.process, source: `${d.process.program} pid ${d.process.pid}` });
  const existing = candidates
    .filter((c) => existsSync(c.socket))
    .map((c) => (c.owner || c.explicit ? c : { ...c, owner: ownerOf(c.socket, daemons) }));
  const chosen = pickSocket(existing, netnsIdentity(netns), !netns);
  if (!chosen) return undefined;
  return {
    endpoint: `unix://${chosen.socket}`,
    options: { socketPath: chosen.socket, timeout: API_TIMEOUT_MS },
    source: chosen.source,
  };
}

/** Containers (all, running or not) and networks from the Engine API. Read-only calls only. */
export async function readDocker(conn: Pick<DockerConnection, 'endpoint' | 'options'>): Promise<DockerState> {
  const docker = new Docker(conn.options);
  const [version, list, nets] = await Promise.all([
    docker.version().catch(() => undefined),
    docker.listContainers({ all: true }),
    docker.listNetworks(),
  ]);
  const inspected = await Promise.all(
    list.map((c) =>
      c.State === 'running'
        ? docker
            .getContainer(c.Id)
            .inspect()
            .catch(() => undefined)
        : Promise.resolve(undefined),
    ),
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
    if (
      ports.some(
        (x) => x.privatePort === p.PrivatePort && x.publicPort === p.PublicPort && x.type === type && x.hostIp === p.IP,
      )
    )
      continue;
    ports.push({
      privatePort: p.PrivatePort,
      ...(p.PublicPort ? { publicPort: p.PublicPort } : {}),
      ...(p.IP ? { hostIp: p.IP } : {}),
      type,
    });
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
  const bridge =
    n.Driver === 'bridge' ? (n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`) : undefined;
  // macvlan's mode defaults to bridge, ipvlan's to l2 (docker network create -o macvlan_mode / ipvlan_mode).
  const direct = n.Driver === 'macvlan' || n.Driver === 'ipvlan';
  const parent = direct ? n.Options?.['parent'] : undefined;
  const mode =
    n.Driver === 'macvlan'
      ? (n.Options?.['macvlan_mode'] ?? 'bridge')
      : n.Driver === 'ipvlan'
        ? (n.Options?.['ipvlan_mode'] ?? 'l2')
        : undefined;
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    ...(bridge ? { bridge } : {}),
    ...(parent ? { parent } : {}),
    ...(mode ? { mode } : {}),
    subnets: (n.IPAM?.Config ?? [])
      .filter((x) => x.Subnet)
      .map((x) => ({ subnet: x.Subnet!, ...(x.Gateway ? { gateway: x.Gateway } : {}) })),
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
          (i) =>
            i.address?.toLowerCase() === e.macAddress &&
            (!e.ipAddress || i.addresses.some((a) => a.local === e.ipAddress)),
        );
        if (!nic) continue;
        e.netns = ns.id;
        e.ifname = nic.ifname;
        const veth = vethPeerOf(namespaces, ns, nic);
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
