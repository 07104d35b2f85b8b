import { containerPid } from '../topologies/docker.js';
import type { LabFault } from '../types.js';
import { macFixRuleset, OLD_GATEWAY_MAC } from './promisc-dependent.js';

/**
 * Seed 001 on a real Docker host: ct1 sends to its gateway 203.0.113.1 at an
 * old MAC (a static neighbour entry inside the container). A netdev ingress
 * rule on docker0 accepts that MAC, but the bridge passes frames for a
 * foreign MAC up to docker0 only while docker0 is promiscuous: replies reach
 * the client exactly while tcpdump (or `ip link set docker0 promisc on`) runs.
 */
export const dockerPromisc: LabFault = {
  name: 'docker-promisc',
  cause: 'promisc-dependent',
  topology: 'docker',
  description: `ct1 sends to its gateway's old MAC ${OLD_GATEWAY_MAC}: works only while docker0 is promiscuous`,
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1' },
  async apply(lab) {
    const pid = await containerPid(lab, 'ct1');
    // Docker's sandbox is no lab role: the gateway and the MAC are rewritten as the host's, its NIC is Docker's eth0.
    await lab.host.run([
      'nsenter',
      `--net=/proc/${pid}/ns/net`,
      'ip',
      'neigh',
      'replace',
      lab.real('hv', '203.0.113.1'),
      'lladdr',
      lab.real('hv', OLD_GATEWAY_MAC),
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    // "docker0" is the container's bridge, whatever a variant named it.
    await lab.run('hv', ['nft', '-f', '-'], { input: macFixRuleset('docker0', OLD_GATEWAY_MAC) });
  },
};
