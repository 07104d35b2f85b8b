import type { LabFault } from '../types.js';

/**
 * A hung guest: packets reach its NIC, nothing answers and nothing on the
 * host explains it. ICMP echo is ignored (net.ipv4.icmp_echo_ignore_all) and
 * the service is frozen with its accept queue full, so SYNs are dropped
 * (LINUX_MIB_LISTENOVERFLOWS) instead of answered.
 */
export const guestNoReply: LabFault = {
  name: 'guest-no-reply',
  cause: 'guest-no-reply',
  topology: 'bridged',
  description: 'vm1 is hung: echo ignored, its service frozen with a full accept queue, no answer at all',
  target: 'vm1',
  symptom: { kind: 'tcp-fails', target: 'vm1' },
  async apply(lab) {
    await lab.run('vm1', ['sysctl', '-q', '-w', 'net.ipv4.icmp_echo_ignore_all=1', 'net.ipv6.icmp.echo_ignore_all=1']);
    if ((await lab.signal('vm1', 'nc', 'SIGSTOP')) === 0) throw new Error('no service process found in vm1');
    // Fill the frozen listener's accept queue from inside the guest (over lo).
    for (let i = 0; i < 8; i++) {
      await lab.daemon('vm1', ['nc', '-d', '192.0.2.11', '80']);
      await lab.daemon('vm1', ['nc', '-d', '2001:db8::11', '80']);
    }
  },
};
