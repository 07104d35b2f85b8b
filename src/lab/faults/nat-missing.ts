import type { LabFault } from '../types.js';

export const natMissing: LabFault = {
  name: 'nat-missing',
  cause: 'nat-missing',
  topology: 'routed',
  description: "the published port's DNAT rule (nat DOCKER chain) is gone: 198.51.100.1:9200 answers RST",
  target: 'ct1',
  symptom: { kind: 'published-tcp-fails', target: 'ct1' },
  async apply(lab) {
    await lab.run('hv', [
      'iptables',
      '-t',
      'nat',
      '-D',
      'DOCKER',
      '!',
      '-i',
      'docker0',
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      '9200',
      '-j',
      'DNAT',
      '--to-destination',
      '203.0.113.2:9200',
    ]);
  },
};
