import { environmentError } from '../errors.js';
import type { Host, Spawned } from '../host/host.js';

/** What one tcpdump reported about itself. */
export interface CaptureStats {
  captured?: number;
  receivedByFilter?: number;
  droppedByKernel?: number;
}

export interface HopCapture {
  netns: string | undefined;
  ifname: string;
  /** The pcap byte stream (tcpdump -w -). */
  stdout: NodeJS.ReadableStream;
  /** Resolves when tcpdump said "listening on", rejects with its error otherwise. */
  listening: Promise<void>;
  /** Stops tcpdump (SIGTERM, it flushes and prints its counters) and returns them. */
  stop(): Promise<{ stats: CaptureStats; error?: string }>;
  /** Set when tcpdump ended by itself with an error (e.g. the interface vanished). */
  readonly failure: string | undefined;
}

export interface CaptureOptions {
  netns?: string;
  ifname: string;
  filter: string;
  /** Never promiscuous unless asked: tcpdump -p (seed 001: a capture must not change what it observes). */
  promiscuous?: boolean;
  /** Bound on tcpdump's life whatever happens to hopdump. */
  maxLifetimeMs: number;
  snaplen?: number;
  /** How long to wait for "listening on". */
  startTimeoutMs?: number;
}

/**
 * One tcpdump on one hop, writing pcap to a pipe: -p (no promiscuous mode),
 * -U and --immediate-mode (every packet flushed as it comes), -n, -w -.
 */
export function startCapture(host: Host, options: CaptureOptions): HopCapture {
  const argv = [
    'tcpdump',
    ...(options.promiscuous ? [] : ['-p']),
    '-U',
    '--immediate-mode',
    '-n',
    // Stay root: dropping to the tcpdump user (Debian's default) would clear
    // the parent-death signal that ends tcpdump if hopdump is killed.
    '-Z',
    'root',
    '-B',
    '4096',
    '-s',
    String(options.snaplen ?? 262144),
    '-i',
    options.ifname,
    '-w',
    '-',
    // "--": the filter is the expression, never an option, whatever it starts with.
    ...(options.filter ? ['--', options.filter] : []),
  ];
  const child: Spawned = host.spawn(argv, {
    ...(options.netns ? { netns: options.netns } : {}),
    maxLifetimeMs: options.maxLifetimeMs,
  });
  let stderr = '';
  let failure: string | undefined;
  let resolveListening!: () => void;
  let rejectListening!: (e: Error) => void;
  const listening = new Promise<void>((res, rej) => {
    resolveListening = res;
    rejectListening = rej;
  });
  listening.catch(() => undefined);
  let isListening = false;
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
    if (!isListening && /listening on /.test(stderr)) {
      isListening = true;
      resolveListening();
    }
  });
  const where = `${options.netns ? `${options.netns}/` : ''}${options.ifname}`;
  const timer = setTimeout(() => {
    if (!isListening) rejectListening(environmentError(`tcpdump on ${where} did not start listening in time`));
  }, options.startTimeoutMs ?? 5000);
  let stopping = false;
  void child.exited.then(({ code }) => {
    clearTimeout(timer);
    const message = errorLine(stderr);
    if (!isListening) {
      rejectListening(environmentError(`tcpdump on ${where} failed: ${message ?? `exit ${code}`}`));
    } else if (!stopping && code !== 0) {
      failure = message ?? `tcpdump exited with ${code}`;
    }
  });
  return {
    netns: options.netns,
    ifname: options.ifname,
    stdout: child.stdout,
    listening,
    get failure() {
      return failure;
    },
    async stop() {
      stopping = true;
      await child.stop(2000);
      clearTimeout(timer);
      return { stats: parseStats(stderr), ...(failure ? { error: failure } : {}) };
    },
  };
}

/** tcpdump's closing counters on stderr. */
export function parseStats(stderr: string): CaptureStats {
  const num = (re: RegExp) => {
    const m = stderr.match(re);
    return m ? Number(m[1]) : undefined;
  };
  const stats: CaptureStats = {};
  const captured = num(/(\d+) packets? captured/);
  const received = num(/(\d+) packets? received by filter/);
  const dropped = num(/(\d+) packets? dropped by kernel/);
  if (captured !== undefined) stats.captured = captured;
  if (received !== undefined) stats.receivedByFilter = received;
  if (dropped !== undefined) stats.droppedByKernel = dropped;
  return stats;
}

function errorLine(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('tcpdump:') && !l.includes('listening on') && !l.includes('verbose output suppressed'));
  return line?.replace(/^tcpdump:\s*/, '');
}
