import type { LabFault } from '../types.js';

/** The macvlan network is in private mode (docker network create -o macvlan_mode=private): ct2 cannot reach ct1. */
export const macvlanPrivate: LabFault = {
  name: 'macvlan-private',
  cause: 'macvlan-isolation',
  topology: 'macvlan',
  description:
    "ct1's and ct2's macvlans in mode private (ip link set eth0 type macvlan mode private): ct2 cannot reach ct1",
  target: 'ct1',
  symptom: { kind: 'ping-fails', target: 'ct1', from: 'ct2' },
  async apply(lab) {
    for (const role of ['ct1', 'ct2'])
      await lab.run(role, ['ip', 'link', 'set', 'dev', 'eth0', 'type', 'macvlan', 'mode', 'private']);
  },
};
