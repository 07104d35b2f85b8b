import { environmentError } from '../errors.js';
import type { Host } from '../host/host.js';

/** Reading other namespaces and capturing need CAP_SYS_ADMIN/CAP_NET_ADMIN: root. */
export function requireRoot(host: Host, command: string): void {
  if (!host.isRoot()) {
    throw environmentError(
      `${command} needs root (to enter network namespaces and read their state)`,
      'run it with sudo',
    );
  }
}
