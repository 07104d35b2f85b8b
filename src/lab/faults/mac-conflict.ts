import type { LabFault } from '../types.js';

/**
 * vm2's NIC carries vm1's MAC and keeps talking, so br0 learns the MAC on
 * vnet1 and sends vm1's traffic to vm2.
 */
export const macConflict: LabFault = {
  name: 'mac-conflict',
  cause: 'mac-conflict',
  topology: 'bridged',
  description: "vm2's eth0 has vm1's MAC 52:54:00:00:00:11 and is active: br0 forwards vm1's frames to vnet1",
  target: 'vm1',
  symptom: { kind: 'ping-loss', target: 'vm1' },
  async apply(lab) {
    await lab.run('vm2', ['ip', 'link', 'set', 'eth0', 'address', '52:54:00:00:00:11']);
    // A chatty guest: re-teaches every bridge on its way twenty times a second. Gratuitous ARP for
    // its own address needs no answer: a ping would stall whenever the gateway's reply went to vm1.
    await lab.daemon('vm2', ['arping', '-q', '-U', '-i', 'eth0', '-S', '192.0.2.12', '-W', '0.05', '192.0.2.12']);
  },
};
