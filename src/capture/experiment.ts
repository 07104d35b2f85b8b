import { environmentError } from '../errors.js';
import type { Host } from '../host/host.js';

/**
 * Holds one device promiscuous while `fn` runs, then restores it. The change
 * is made and undone by a small guardian (a fixed script; the device name is
 * an argument, not part of the script) that restores the device when its
 * stdin closes, which also happens when hopdump is killed, by any signal.
 */
const GUARDIAN = `
set -u
dev="$1"
ip link set dev "$dev" promisc on || exit 3
trap 'ip link set dev "$dev" promisc off' EXIT
trap 'exit 0' TERM INT HUP
echo "hopdump-promisc: on" >&2
cat > /dev/null
`;

export async function withPromiscuous<T>(
  host: Host,
  netns: string | undefined,
  ifname: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!/^[\w.:@-]{1,15}$/.test(ifname)) throw environmentError(`not an interface name: ${ifname}`);
  const guardian = host.spawn(['sh', '-c', GUARDIAN, 'hopdump-promisc', ifname], {
    ...(netns ? { netns } : {}),
    maxLifetimeMs: 120_000,
    cleansUpOnStdinEof: true,
  });
  let err = '';
  const on = await new Promise<boolean>((resolve) => {
    guardian.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.includes('hopdump-promisc: on')) resolve(true);
    });
    void guardian.exited.then(() => resolve(false));
  });
  try {
    if (!on)
      throw environmentError(`could not make ${ifname} promiscuous: ${err.trim().split('\n')[0] ?? 'guardian ended'}`);
    return await fn();
  } finally {
    await guardian.stop(3000);
  }
}
