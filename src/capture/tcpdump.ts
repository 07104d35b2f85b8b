import { closeSync } from 'node:fs';
import { environmentError } from '../errors.js';
import type { Host, Spawned } from '../host/host.js';
import { followFile } from './spool.js';

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
  /** Bytes kept of each frame; default 262144 (whole), a hop's capture gives snaplenForMtu(). */
  snaplen?: number;
  /** How long to wait for "listening on". */
  startTimeoutMs?: number;
  /**
   * Write to this file (spool.ts) instead of a pipe: tcpdump never waits for hopdump; `stdout`
   * then follows the file and ends after tcpdump has stopped and every byte was read.
   */
  spoolFile?: { path: string; fd: number; maxBytes: number };
}

/**
 * The snapshot length for a device of this MTU: a whole frame of that MTU with its Ethernet
 * header and two VLAN tags (libpcap puts a stripped tag back). Only GSO/GRO aggregates (up to
 * 64 KiB on a device with offloads, veths included) are cut; their wire length is kept.
 *
 * Why not 262144 (whole anything): with --immediate-mode libpcap uses TPACKET_V2, whose ring
 * has fixed slots sized by the snapshot length, capped at 65535 + 18 on a device with offloads.
 * 64 KiB slots (each in its own 128 KiB block) leave 64 packets in a 4 MiB buffer: a reader
 * that pauses for 3 ms at 25 000 packets/s makes the kernel drop. Slots of 1600 bytes (MTU
 * 1500) put 2622 packets in the same buffer (docs/pcap.md, "Live capture").
 */
export function snaplenForMtu(mtu: number): number {
  return (Number.isInteger(mtu) && mtu >= 68 ? mtu : 1500) + 14 + 8;
}

/**
 * tcpdump's command line for one hop: -p (no promiscuous mode), -U and
 * --immediate-mode (every packet flushed as it comes), -n, -w `writeTo`
 * (a pipe, `-`, for hopdump; the benchmark's peer writes to /dev/null).
 */
export function captureArgv(options: CaptureOptions, writeTo = '-'): string[] {
  return [
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
    writeTo,
    // "--": the filter is the expression, never an option, whatever it starts with.
    ...(options.filter ? ['--', options.filter] : []),
  ];
}

/** One tcpdump on one hop, writing pcap to a pipe (captureArgv). */
export function startCapture(host: Host, options: CaptureOptions): HopCapture {
  const argv = captureArgv(options);
  const spool = options.spoolFile;
  let child: Spawned;
  try {
    child = host.spawn(argv, {
      ...(options.netns ? { netns: options.netns } : {}),
      ...(spool ? { stdoutFd: spool.fd } : {}),
      maxLifetimeMs: options.maxLifetimeMs,
    });
  } finally {
    // The child has its own copy of the descriptor.
    if (spool) closeSync(spool.fd);
  }
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
  const stdout = spool
    ? followFile(spool.path, {
        writerDone: child.exited,
        maxBytes: spool.maxBytes,
        onMaxBytes: () => {
          failure = `stopped: its spool file passed ${Math.round(spool.maxBytes / 2 ** 20)} MiB`;
          stopping = true;
          void child.stop(2000);
        },
      })
    : child.stdout;
  return {
    netns: options.netns,
    ifname: options.ifname,
    stdout,
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
