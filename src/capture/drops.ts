import type { DropEvent } from '../model/evidence.js';
import type { Host, Spawned } from '../host/host.js';

/**
 * Kernel drop reasons during the window, from skb:kfree_skb in a private
 * tracefs instance (never the global trace buffer). The tracer is a small
 * fixed script (no user input in it) run in its own mount namespace, so the
 * tracefs mount it needs is seen by nobody else; it removes its instance when
 * hopdump closes its stdin, which also happens when hopdump is killed.
 *
 * net:netif_receive_skb, filtered to the path's device names, says on which
 * device a dropped packet was received (matched by skbaddr).
 */
const TRACER = `
set -u
inst="$1"; devfilter="$2"
dir=$(mktemp -d /tmp/hopdump-tracefs.XXXXXX)
cleanup() {
  # The reader of trace_pipe must be gone before the instance can be removed (EBUSY).
  [ -n "\${pid:-}" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  if [ -d "$dir/instances/$inst" ]; then
    echo 0 > "$dir/instances/$inst/events/skb/kfree_skb/enable" 2>/dev/null
    echo 0 > "$dir/instances/$inst/events/net/netif_receive_skb/enable" 2>/dev/null
    n=0
    until rmdir "$dir/instances/$inst" 2>/dev/null || [ $n -ge 50 ]; do n=$((n+1)); sleep 0.1; done
  fi
  umount "$dir" 2>/dev/null; rmdir "$dir" 2>/dev/null
}
trap cleanup EXIT
mount -t tracefs nodev "$dir" || { echo "hopdump-tracer: cannot mount tracefs" >&2; exit 3; }
[ -d "$dir/events/skb/kfree_skb" ] || { echo "hopdump-tracer: no skb:kfree_skb event" >&2; exit 3; }
for old in "$dir"/instances/hopdump-*; do
  [ -d "$old" ] || continue
  p=\${old##*-}; kill -0 "$p" 2>/dev/null || { echo 0 > "$old/events/skb/kfree_skb/enable"; echo 0 > "$old/events/net/netif_receive_skb/enable"; rmdir "$old"; } 2>/dev/null
done
mkdir "$dir/instances/$inst" || exit 3
i="$dir/instances/$inst"
echo 'reason > 2' > "$i/events/skb/kfree_skb/filter"
echo 1 > "$i/events/skb/kfree_skb/enable"
if [ -n "$devfilter" ]; then
  echo "$devfilter" > "$i/events/net/netif_receive_skb/filter" && echo 1 > "$i/events/net/netif_receive_skb/enable"
fi
echo "hopdump-tracer: ready" >&2
cat "$i/trace_pipe" & pid=$!
cat > /dev/null
`;

export interface DropTracer {
  /** Resolves when tracing is on, or with a notice when it cannot be. */
  ready: Promise<string | undefined>;
  /** Resolves when the tracer has ended (stopped, failed, or at its bound on life). */
  exited: Promise<unknown>;
  stop(): Promise<DropEvent[]>;
}

/** Device names become a tracefs filter; names are checked to be plain interface names. */
function deviceFilter(devices: string[]): string {
  const names = [...new Set(devices)].filter((d) => /^[\w.:@-]{1,15}$/.test(d));
  return names.map((d) => `name == "${d}"`).join(' || ');
}

let tracers = 0;

/**
 * `onDrop`: a long-running tracer (watch) hands over each drop's reason as it comes and keeps
 * nothing; without it, the events of the window are parsed at stop().
 */
export function startDropTracer(
  host: Host,
  devices: string[],
  maxLifetimeMs: number,
  onDrop?: (reason: string) => void,
): DropTracer {
  // The pid last: a later run removes instances whose hopdump is gone.
  const instance = `hopdump-${++tracers}-${process.pid}`;
  let child: Spawned;
  try {
    child = host.spawn(
      [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        TRACER,
        'hopdump-tracer',
        instance,
        deviceFilter(devices),
      ],
      {
        maxLifetimeMs,
        cleansUpOnStdinEof: true,
      },
    );
  } catch (err) {
    return {
      ready: Promise.resolve(`kernel drop reasons unavailable: ${(err as Error).message}`),
      exited: Promise.resolve(),
      stop: () => Promise.resolve([]),
    };
  }
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    if (onDrop) {
      const end = out.lastIndexOf('\n');
      if (end < 0) return;
      for (const line of out.slice(0, end).split('\n')) {
        const m = /kfree_skb: .* reason: (\w+)/.exec(line);
        if (m) onDrop(m[1]!);
      }
      out = out.slice(end + 1);
      return;
    }
    if (out.length > 32 << 20) out = out.slice(-(16 << 20));
  });
  const ready = new Promise<string | undefined>((resolve) => {
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.includes('hopdump-tracer: ready')) resolve(undefined);
    });
    void child.exited.then(() => {
      const why =
        err.split('\n').find((l) => l.startsWith('hopdump-tracer:')) ?? err.trim().split('\n')[0] ?? 'tracer ended';
      resolve(`kernel drop reasons unavailable: ${why.replace(/^hopdump-tracer:\s*/, '') || 'tracer ended'}`);
    });
  });
  return {
    ready,
    exited: child.exited,
    async stop() {
      await child.stop(1500);
      return onDrop ? [] : parseTrace(out);
    },
  };
}

/** Counts kfree_skb events by reason, location and (when known) receiving device. */
export function parseTrace(text: string): DropEvent[] {
  const devOf = new Map<string, string>();
  const counts = new Map<string, DropEvent>();
  for (const line of text.split('\n')) {
    const rx = line.match(/netif_receive_skb: dev=(\S+) skbaddr=(\S+)/);
    if (rx) {
      devOf.set(rx[2]!, rx[1]!);
      if (devOf.size > 100_000) devOf.clear();
      continue;
    }
    const m = line.match(/kfree_skb: skbaddr=(\S+) .*protocol=(\d+) location=(\S+) reason: (\w+)/);
    if (!m) continue;
    const device = devOf.get(m[1]!);
    const location = m[3]!.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, '');
    const key = `${m[4]} ${location} ${device ?? ''} ${m[2]}`;
    const c = counts.get(key) ?? {
      reason: m[4]!,
      location,
      protocol: Number(m[2]),
      count: 0,
      ...(device ? { device } : {}),
    };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}
