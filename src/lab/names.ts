import { usageError } from '../errors.js';

/** Every lab namespace starts with this, so leftovers can be found and cleaned. */
export const LAB_PREFIX = 'hd-';
export const DEFAULT_INSTANCE = 'lab';

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
