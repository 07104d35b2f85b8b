import type { LabFault } from '../types.js';

/**
 * Asymmetric routing with strict reverse-path filtering: the host's route
 * back to the client's /28 points into docker0, so packets from the client
 * arriving on eth0 fail the RPF check (SKB_DROP_REASON_IP_RPFILTER).
 */
export const rpFilterDrop: LabFault = {
  name: 'rp-filter-drop',
  cause: 'rp-filter-drop',
  topology: 'routed',
  description: 'strict rp_filter on eth0 with the route back to 198.51.100.96/28 via docker0: client packets fail RPF',
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1' },
  async apply(lab) {
    await lab.run('hv', ['ip', 'route', 'add', '198.51.100.96/28', 'via', '203.0.113.254', 'dev', 'docker0']);
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.eth0.rp_filter=1']);
  },
};
