import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, DockerNetwork, DockerState } from '../model/docker.js';
import { vethPeerOf, type Namespace } from '../model/topology.js';
import { daemonPath, optionValues, type DaemonScan } from './daemons.js';

/**
 * Podman's own networks and its running containers, without a daemon (Podman
 * has none) and without its container database (BoltDB or SQLite, not read):
 *
 * - networks: netavark's definitions, one JSON file per network in the
 *   network config directory (default /etc/containers/networks; podman's
 *   global `--network-config-dir`), plus the built-in default network
 *   `podman` (bridge podman0, 10.88.0.0/16), which podman only writes there
 *   when it was changed;
 * - running containers: each has a `conmon` monitor whose command line names
 *   the container (`-c ID`, `-n NAME`), its OCI bundle (`-b DIR`, whose
 *   config.json names the network namespace, /run/netns/netns-UUID for a
 *   rootful container), its pidfile (`-p`), and, in the podman cleanup
 *   command it runs at exit (`--exit-command-arg`), podman's own
 *   `--network-config-dir`.
 *
 * Each container's NICs are then joined like Docker endpoints: the NIC in its
 * namespace, its veth peer and the bridge; the bridge names the network.
 * Stopped containers (no conmon) and published ports (kept in the database)
 * are not seen.
 */

/** netavark's default network, built into podman (libpod's default network settings). */
const DEFAULT_NETWORK: DockerNetwork = {
  id: '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9',
  name: 'podman',
  driver: 'bridge',
  bridge: 'podman0',
  subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }],
};
export const DEFAULT_NETWORK_CONFIG_DIR = '/etc/containers/networks';

/** One netavark network definition (podman network inspect's own format). */
export function parseNetavarkNetwork(text: string): DockerNetwork | undefined {
  const n = JSON.parse(text) as {
    name?: string;
    id?: string;
    driver?: string;
    network_interface?: string;
    subnets?: Array<{ subnet?: string; gateway?: string }>;
    options?: Record<string, string>;
  };
  if (!n.name || !n.driver) return undefined;
  const direct = n.driver === 'macvlan' || n.driver === 'ipvlan';
  return {
    id: n.id ?? n.name,
    name: n.name,
    driver: n.driver,
    // macvlan networks name their parent (lower) device in network_interface.
    ...(n.driver === 'bridge' && n.network_interface ? { bridge: n.network_interface } : {}),
    ...(direct && n.network_interface ? { parent: n.network_interface } : {}),
    ...(direct ? { mode: n.options?.['mode'] ?? (n.driver === 'macvlan' ? 'bridge' : 'l2') } : {}),
    subnets: (n.subnets ?? [])
      .filter((s) => s.subnet)
      .map((s) => ({ subnet: s.subnet!, ...(s.gateway ? { gateway: s.gateway } : {}) })),
  };
}

/** Every network defined in a config directory, with the built-in default when it is not overridden there. */
export function readNetavarkNetworks(dir: string, warnings: string[]): DockerNetwork[] {
  const out: DockerNetwork[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    // No directory: only the default network.
  }
  for (const f of files) {
    try {
      const n = parseNetavarkNetwork(readFileSync(join(dir, f), 'utf8'));
      if (n) out.push(n);
    } catch (err) {
      warnings.push(
        `Podman network ${join(dir, f)} could not be read: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (!out.some((n) => n.name === DEFAULT_NETWORK.name)) out.unshift(DEFAULT_NETWORK);
  return out;
}

export interface ConmonContainer {
  id: string;
  name: string;
  bundle?: string;
  pidfile?: string;
  networkConfigDir?: string;
  runtime?: string;
}

/** What a podman conmon's command line says about its container; undefined for another engine's conmon (CRI-O's). */
export function parseConmonArgv(argv: string[]): ConmonContainer | undefined {
  const exit = optionValues(argv, ['--exit-command'])[0];
  if (!exit || !/(^|\/)podman$/.test(exit)) return undefined;
  const id = optionValues(argv, ['-c', '--cid'])[0];
  if (!id) return undefined;
  const exitArgs = optionValues(argv, ['--exit-command-arg']);
  const i = exitArgs.indexOf('--network-config-dir');
  const bundle = optionValues(argv, ['-b', '--bundle'])[0];
  const pidfile = optionValues(argv, ['-p', '--container-pidfile'])[0];
  const runtime = optionValues(argv, ['-r', '--runtime'])[0];
  return {
    id,
    name: optionValues(argv, ['-n', '--name'])[0] ?? id.slice(0, 12),
    ...(bundle ? { bundle } : {}),
    ...(pidfile ? { pidfile } : {}),
    ...(i >= 0 && exitArgs[i + 1] ? { networkConfigDir: exitArgs[i + 1]! } : {}),
    ...(runtime ? { runtime } : {}),
  };
}

/** The network namespace entry of an OCI runtime config (config.json's linux.namespaces): undefined = the host's. */
export function ociNetns(configJson: string): { path?: string } | undefined {
  const c = JSON.parse(configJson) as { linux?: { namespaces?: Array<{ type?: string; path?: string }> } };
  const n = c.linux?.namespaces?.find((x) => x.type === 'network');
  return n ? (n.path ? { path: n.path } : {}) : undefined;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface PodmanRead {
  state: DockerState;
  /** Each container's network namespace path (config.json), by container ID. */
  netnsPaths: Map<string, string>;
}

/**
 * Podman's networks and running containers, from the conmon processes of one
 * discovery's process scan: all of them for the host, those running in the
 * namespace looked at with --netns (`netnsIdentity`, as /proc/PID/ns/net names
 * it). joinPodman keeps only the NICs that were collected.
 * undefined when there is no podman here (no conmon and no network directory).
 */
export function readPodman(
  scan: DaemonScan,
  warnings: string[],
  options: { netnsIdentity?: string | undefined; defaultDir?: string } = {},
): PodmanRead | undefined {
  const defaultDir = options.defaultDir ?? DEFAULT_NETWORK_CONFIG_DIR;
  const conmons = scan.processes
    // With --netns, the podman that was run in that namespace: its conmon runs there too.
    .filter((p) => p.program === 'conmon' && (!options.netnsIdentity || p.netns === options.netnsIdentity))
    .flatMap((p) => {
      const c = parseConmonArgv(p.argv);
      return c ? [{ process: p, container: c }] : [];
    });
  const dirs = new Set<string>();
  for (const { process, container } of conmons) dirs.add(daemonPath(process, container.networkConfigDir ?? defaultDir));
  if (conmons.length === 0) {
    // The host's own podman config describes the root namespace, not one given with --netns.
    if (options.netnsIdentity) return undefined;
    try {
      readdirSync(defaultDir);
    } catch {
      return undefined;
    }
    dirs.add(defaultDir);
  }
  const networks: DockerNetwork[] = [];
  for (const dir of dirs) {
    for (const n of readNetavarkNetworks(dir, warnings))
      if (!networks.some((x) => x.id === n.id && x.bridge === n.bridge)) networks.push(n);
  }
  const netnsPaths = new Map<string, string>();
  const containers = conmons.map(({ process, container }) => {
    const config = container.bundle ? readOr(daemonPath(process, join(container.bundle, 'config.json'))) : undefined;
    let netns: ReturnType<typeof ociNetns>;
    try {
      netns = config ? ociNetns(config) : undefined;
    } catch {
      netns = undefined;
    }
    if (netns?.path) netnsPaths.set(container.id, netns.path);
    const pid = Number(container.pidfile ? (readOr(daemonPath(process, container.pidfile))?.trim() ?? '0') : '0') || 0;
    const c: Container = {
      id: container.id,
      name: container.name,
      image: '',
      state: 'running',
      pid,
      // No network namespace of its own in the OCI config: --network host.
      networkMode: config && !netns ? 'host' : 'bridge',
      endpoints: [],
      ports: [],
    };
    return c;
  });
  return { state: { endpoint: `netavark networks in ${[...dirs].join(', ')}`, containers, networks }, netnsPaths };
}

/**
 * Each running container's NICs, as Docker endpoints: the NICs of its
 * namespace (by its /run/netns name, else by its PID), their veth peer and
 * its bridge, which names the Podman network (a macvlan NIC: its lower
 * device, the network's parent).
 */
export function joinPodman(read: PodmanRead, namespaces: Namespace[]): void {
  const { state } = read;
  for (const c of state.containers) {
    const path = read.netnsPaths.get(c.id);
    const name = path?.match(/^\/run\/netns\/([^/]+)$/)?.[1];
    const ns = namespaces.find(
      (n) => !n.isRoot && ((name && n.name === name) || (c.pid > 0 && n.id === `pid:${c.pid}`)),
    );
    if (!ns) continue;
    for (const nic of ns.interfaces) {
      if (nic.kind === 'loopback') continue;
      const veth = vethPeerOf(namespaces, ns, nic);
      const net = state.networks.find(
        (n) => (veth?.master && n.bridge === veth.master) || (nic.lower?.ifname && n.parent === nic.lower.ifname),
      );
      if (!net) continue;
      const inNet =
        nic.addresses.find((a) => a.family === 'inet' && a.scope !== 'link') ??
        nic.addresses.find((a) => a.scope !== 'link');
      c.endpoints.push({
        network: net.name,
        networkId: net.id,
        ...(inNet ? { ipAddress: inNet.local, prefixLen: inNet.prefixlen } : {}),
        ...(nic.address ? { macAddress: nic.address.toLowerCase() } : {}),
        ...(net.subnets[0]?.gateway ? { gateway: net.subnets[0].gateway } : {}),
        netns: ns.id,
        ifname: nic.ifname,
        ...(veth ? { hostVeth: veth.ifname } : {}),
        ...(veth?.master ? { bridge: veth.master } : {}),
        ...(nic.lower?.ifname ? { lowerDevice: nic.lower.ifname } : {}),
        ...(nic.mode ? { mode: nic.mode } : {}),
      });
    }
  }
}
