import type { LabFault } from '../types.js';

/** A SPAN meant to mirror vm1's traffic was written as `redirect`: vm1's IP replies go to vnet1. */
export const tcFilter: LabFault = {
  name: 'tc-filter',
  cause: 'tc-filter',
  topology: 'bridged',
  description:
    'tc ingress u32 filters on vnet0 redirect IPv4 and IPv6 from vm1 to vnet1 (mirred redirect instead of mirror)',
  target: 'vm1',
  symptom: { kind: 'ping-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', ['tc', 'qdisc', 'add', 'dev', 'vnet0', 'ingress']);
    await lab.run('hv', [
      'tc',
      'filter',
      'add',
      'dev',
      'vnet0',
      'parent',
      'ffff:',
      'protocol',
      'ip',
      'prio',
      '1',
      'u32',
      'match',
      'ip',
      'src',
      '192.0.2.11/32',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      'vnet1',
    ]);
    await lab.run('hv', [
      'tc',
      'filter',
      'add',
      'dev',
      'vnet0',
      'parent',
      'ffff:',
      'protocol',
      'ipv6',
      'prio',
      '2',
      'u32',
      'match',
      'ip6',
      'src',
      '2001:db8::11/128',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      'vnet1',
    ]);
  },
};
