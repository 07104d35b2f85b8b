import { closeSync, openSync, read, readSync } from 'node:fs';

/**
 * A file that is not in the page cache is read ahead of the parser, several pieces at once.
 *
 * The parser reads 1 MiB at a time, one read after another; the kernel's own read-ahead then keeps
 * about one window in flight, and on the development machine's virtual disk `read --stats` of a
 * cold 0.47 GB capture spent 0.14-0.18 s of its 0.35 s waiting in read() (the disk alone, `dd
 * bs=1M`, takes 0.19 s; tcpdump, whose small reads overlap with its work, 0.22-0.28 s). Four reads
 * of 4 MiB in flight at a time (libuv's thread pool), queued up to 128 MiB ahead of the parser
 * (it says where it is every 16 MiB: parallel.ts), bring the pages in while the parser works:
 * in process 0.20 s instead of 0.27 s (median of 6; docs/pcap.md, "Cold files").
 *
 * Only for a file that is cold: on a file already in the page cache the same reads are copies that
 * take CPU and memory bandwidth from the parser (+25 ms on the 1 M file, +60 ms on the 2 M one).
 * Cold is told by timing two 16 KiB reads, at the start and in the middle: from the page cache
 * each takes about 20 µs here, from the disk 160 µs or more; both must be slow, so one read that
 * was merely preempted does not start a prefetch. The window keeps what is read ahead small
 * beside the page cache, and bounds what is still read after the parser stops (an error early
 * in a large file, or the end): queued reads cannot be called back, and the process waits for
 * them before it exits.
 */

const PROBE_BYTES = 16 << 10;
/** A 16 KiB read slower than this came from the disk (page cache: ~20 µs; disk: 160 µs and more). */
const COLD_PROBE_NS = 100_000;
const PIECE_BYTES = 4 << 20;
/** How far ahead of the parser pieces are queued (32 pieces). */
const WINDOW_BYTES = 128 << 20;

/** A read-ahead in progress: the parser says where it is, and stops it when it is done. */
export interface Prefetch {
  /** Pieces queued so far. */
  readonly pieces: number;
  /** The parser is at `offset`: queue pieces up to a window past it. */
  ahead(offset: number): void;
  /** No more pieces (those queued are read, then the file is closed). */
  stop(): void;
}

export interface PrefetchOptions {
  /** A probe read slower than this (ns) means cold (default 100 µs; tests: 0 or Infinity). */
  coldNs?: number;
  /** Called once the read-ahead is stopped, every queued piece read and the file closed (tests). */
  onDone?: () => void;
  /** How far ahead of the parser pieces are queued (default 128 MiB; tests). */
  windowBytes?: number;
}

/**
 * Starts reading `path` ahead into the page cache if it is cold, a window of pieces past the
 * start; undefined if it is warm (or small, or cannot be read: the parser will say why).
 */
export function prefetchIfCold(path: string, size: number, o: PrefetchOptions = {}): Prefetch | undefined {
  if (size < 4 * PIECE_BYTES) return undefined;
  const coldNs = o.coldNs ?? COLD_PROBE_NS;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const probe = Buffer.alloc(PROBE_BYTES);
    readSync(fd, probe, 0, 0, 0); // the call's own first-use costs, untimed
    if (slowRead(fd, probe, 0, coldNs) && slowRead(fd, probe, Math.floor(size / 2 / 4096) * 4096, coldNs)) {
      const p = new ReadAhead(fd, size, o.windowBytes ?? WINDOW_BYTES, o.onDone);
      p.ahead(0);
      return p;
    }
  } catch {
    /* unreadable: not read ahead */
  }
  closeSync(fd);
  return undefined;
}

class ReadAhead implements Prefetch {
  pieces = 0;
  private next = 0;
  private pending = 0;
  private stopped = false;
  // Every piece lands in the same scratch buffer: only the page cache keeps what was read.
  private readonly scratch = Buffer.allocUnsafe(PIECE_BYTES);
  private readonly done = () => {
    this.pending--;
    this.closeIfIdle();
  };

  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly window: number,
    private readonly onDone: (() => void) | undefined,
  ) {}

  ahead(offset: number): void {
    if (this.stopped) return;
    const until = Math.min(this.size, offset + this.window);
    for (; this.next < until; this.next += PIECE_BYTES) {
      this.pending++;
      this.pieces++;
      read(this.fd, this.scratch, 0, Math.min(PIECE_BYTES, this.size - this.next), this.next, this.done);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.closeIfIdle();
  }

  private closeIfIdle(): void {
    if (!this.stopped || this.pending > 0) return;
    closeSync(this.fd);
    this.onDone?.();
  }
}

function slowRead(fd: number, buf: Buffer, at: number, coldNs: number): boolean {
  const t = process.hrtime.bigint();
  readSync(fd, buf, 0, buf.length, at);
  return Number(process.hrtime.bigint() - t) >= coldNs;
}
