import { docker, importBusybox, startDocker, BUSYBOX_IMAGE } from '../docker.js';
import { environmentError } from '../../errors.js';
import type { LabBuilder, LabTarget, LabTopology } from '../types.js';
import { addAddress, createNamespaces, up, vethPair } from './common.js';

/**
 * A real Docker host: the hypervisor namespace runs its own dockerd
 * (src/lab/docker.ts) with docker0 at 203.0.113.1/24; container ct1 (busybox
 * httpd on 9200) publishes 198.51.100.1:9200. Docker writes the bridge, the
 * veth, the iptables rules (nft backend, inside the namespace) itself. The
 * container's network namespace is Docker's (unnamed, found as pid:N).
 * A variant (docs/lab.md) may put the container on a user-defined network
 * instead (its bridge br-<12 hex>; docker0 stays, empty, on 192.0.2.0/27), or
 * the default network on a bridge the operator made ("bridge" in
 * daemon.json): the 203.0.113.0/24 subnet is the container's either way.
 *
 *   client 198.51.100.100 ── eth0 [hv 198.51.100.1, docker0 203.0.113.1] vethXXXXXXX ── eth0 ct1 203.0.113.2
 */
export const DOCKER_CONTAINER = 'ct1';

const CT1: LabTarget = {
  name: 'ct1',
  // No lab namespace of its own: the shim and the veth's host side are in
  // the hypervisor's namespace, the container's eth0 in Docker's sandbox.
  role: 'hv',
  address: '203.0.113.2',
  // Docker 20.10 derives the MAC from the IP: 02:42 + the four address bytes.
  mac: '02:42:cb:00:71:02',
  // Docker names the host side vethXXXXXXX at random: discover finds it
  // (the Engine API's container, its eth0's veth peer).
  backend: 'veth (named by Docker)',
  port: 9200,
  published: { address: '198.51.100.1', port: 9200 },
};

/**
 * PID 1 only sleeps; the listener is its child, so it can die while the container stays up. The
 * port is an argument of its own, so that a variant's port replaces it.
 */
export const CT1_COMMAND = ['sh', '-c', 'httpd -f -p "$1" -h /www & exec sleep 2147483647', 'ct1', '9200'];

/** The user-defined network of a variant that puts the container on one (a Compose project's default network). */
export const DOCKER_NETWORK = 'app_default';

export const dockerTopology: LabTopology = {
  name: 'docker',
  description:
    'real dockerd in the hv namespace: docker0 203.0.113.1/24, busybox container ct1, port 9200 published on 198.51.100.1',
  roles: ['client', 'hv'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '198.51.100.1' },
  targets: [CT1],
  // A real container: by its name and published port, the way an operator starts.
  suggestedTarget: 'ct1:9200',
  async build(lab) {
    await createNamespaces(lab, this.roles);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await Promise.all([up(lab, 'hv', 'eth0'), up(lab, 'client', 'eth0')]);
    await addAddress(lab, 'hv', 'eth0', '198.51.100.1/24');
    await addAddress(lab, 'client', 'eth0', '198.51.100.100/24');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '198.51.100.100', 'dev', 'eth0']);
    // The client is the upstream router: it knows the container subnet is behind the host.
    await lab.run('client', ['ip', 'route', 'add', '203.0.113.0/24', 'via', '198.51.100.1', 'dev', 'eth0']);
    // A host that forwards already: dockerd then leaves the FORWARD policy ACCEPT
    // (it sets DROP only when it turns forwarding on itself), so the container
    // subnet is routable from the client, not only the published port.
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const network = lab.variant?.dockerNetwork ?? 'default';
    const addressPool = { base: '192.0.2.0/24', size: 27 };
    if (network === 'own-bridge') {
      // The operator's bridge (a variant names it): dockerd takes it and its address as the default network's.
      await lab.run('hv', ['ip', 'link', 'add', 'docker0', 'type', 'bridge']);
      await addAddress(lab, 'hv', 'docker0', '203.0.113.1/24');
      await up(lab, 'hv', 'docker0');
      await startDocker(lab, 'hv', { bridge: 'docker0', addressPool });
    } else if (network === 'user-defined') {
      // docker0 keeps a subnet of its own, out of the container's way; the network's bridge is named
      // as Docker names it (br-<12 hex>), given by option so that the variant knows it.
      await startDocker(lab, 'hv', { bip: '192.0.2.1/27', addressPool });
    } else {
      await startDocker(lab, 'hv', { bip: '203.0.113.1/24', addressPool });
    }
    await importBusybox(lab, 'hv');
    if (network === 'user-defined') {
      await docker(lab, 'hv', [
        'network',
        'create',
        '--driver',
        'bridge',
        '--subnet',
        '203.0.113.0/24',
        '--gateway',
        '203.0.113.1',
        '-o',
        'com.docker.network.bridge.name=docker0',
        DOCKER_NETWORK,
      ]);
    }
    await docker(lab, 'hv', [
      'run',
      '-d',
      '--name',
      DOCKER_CONTAINER,
      '-p',
      `${CT1.published!.address}:${CT1.published!.port}:${CT1.port}`,
      ...(network === 'user-defined' ? ['--network', DOCKER_NETWORK] : []),
      BUSYBOX_IMAGE,
      ...CT1_COMMAND,
    ]);
    await lab.waitListening('client', CT1.published!.address, CT1.published!.port);
  },
};

/** The host PID of a container's main process. */
export async function containerPid(lab: LabBuilder, name: string): Promise<number> {
  const r = await docker(lab, 'hv', ['inspect', '-f', '{{.State.Pid}}', name]);
  const pid = Number(r.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 0)
    throw environmentError(`container ${name} is not running (pid '${r.stdout.trim()}')`);
  return pid;
}
