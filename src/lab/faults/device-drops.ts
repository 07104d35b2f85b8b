import type { LabFault } from '../types.js';

/**
 * A bandwidth limit on the backend (what libvirt's <bandwidth> sets up) far
 * too small: the tbf queue on vnet0 overflows and drops most packets to vm1.
 */
export const deviceDrops: LabFault = {
  name: 'device-drops',
  cause: 'device-drops',
  topology: 'bridged',
  description:
    'tbf rate 1kbit burst 200b limit 64b on vnet0 (a libvirt <bandwidth> far too low): packets to vm1 dropped',
  target: 'vm1',
  symptom: { kind: 'ping-loss', target: 'vm1' },
  async apply(lab) {
    await lab.run('hv', [
      'tc',
      'qdisc',
      'add',
      'dev',
      'vnet0',
      'root',
      'tbf',
      'rate',
      '1kbit',
      'burst',
      '200',
      'limit',
      '64',
    ]);
  },
};
