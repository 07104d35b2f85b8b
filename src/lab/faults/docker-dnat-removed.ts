import { environmentError } from '../../errors.js';
import type { LabFault } from '../types.js';

export const dockerDnatRemoved: LabFault = {
  name: 'docker-dnat-removed',
  cause: 'nat-missing',
  topology: 'docker',
  description: "dockerd's DNAT rule for the published port (nat DOCKER) is gone: 198.51.100.1:9200 answers RST",
  target: 'ct1',
  symptom: { kind: 'published-tcp-fails', target: 'ct1' },
  async apply(lab) {
    // Deleted by its own spec as dockerd wrote it (`iptables -S` prints it ready to reuse).
    const port = lab.real('hv', '9200');
    const r = await lab.run('hv', ['iptables', '-t', 'nat', '-S', 'DOCKER']);
    const rule = r.stdout
      .split('\n')
      .find((l) => l.startsWith('-A DOCKER ') && l.includes(`--dport ${port} `) && l.includes('DNAT'));
    if (!rule) throw environmentError(`no DNAT rule for port ${port} in nat/DOCKER: ${r.stdout.trim()}`);
    // Read back in the lab's own terms already (a variant's addresses): run verbatim, not rewritten again.
    await lab.host.run(['iptables', '-t', 'nat', '-D', ...rule.split(' ').slice(1)], { netns: lab.ns('hv') });
    // With --userland-proxy=false dockerd still binds 198.51.100.1:9200 to reserve the port and never
    // accepts: without DNAT the kernel completes the handshake there and `nc -z` succeeds. Destroy
    // that listener (SOCK_DESTROY, ss -K) so the port answers RST, as on a host without the reservation.
    await lab.run('hv', ['ss', '-K', '-ltn', 'sport = :9200']);
  },
};
