import type { LabFault } from '../types.js';

export const dockerUserDrop: LabFault = {
  name: 'docker-user-drop',
  cause: 'firewall-drop',
  topology: 'docker',
  description: 'a DOCKER-USER rule drops everything forwarded to ct1 203.0.113.2 (published port included)',
  target: 'ct1',
  symptom: { kind: 'published-tcp-fails', target: 'ct1' },
  async apply(lab) {
    await lab.run('hv', ['iptables', '-I', 'DOCKER-USER', '-d', '203.0.113.2', '-j', 'DROP']);
  },
};
