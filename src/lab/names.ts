import { usageError } from '../errors.js';

/** Every lab namespace starts with this, so leftovers can be found and cleaned. */
export const LAB_PREFIX = 'hd-';
export const DEFAULT_INSTANCE = 'lab';

/**
 * Where the lab's private daemons (Open vSwitch, dockerd, libvirtd) keep their
 * directories and sockets: HOPDUMP_LAB_DAEMON_DIR, default /run/hopdump. Only
 * the lab knows it: discovery finds these daemons by their processes, and the
 * tests move it to show that (test/collect/daemons-lab.test.ts).
 */
export function labDaemonDir(): string {
  return process.env['HOPDUMP_LAB_DAEMON_DIR'] || '/run/hopdump';
}

export function validateInstance(instance: string): string {
  if (!/^[a-z0-9]{1,16}$/.test(instance)) {
    throw usageError(`invalid lab name '${instance}'`, 'use 1-16 lowercase letters and digits');
  }
  return instance;
}

export function labNetns(instance: string, role: string): string {
  return `${LAB_PREFIX}${instance}-${role}`;
}

/** The instance a lab namespace belongs to, from hd-<instance>-<role>. */
export function instanceOf(netns: string): string | undefined {
  const m = netns.match(/^hd-([a-z0-9]{1,16})-[a-z0-9]+$/);
  return m?.[1];
}
