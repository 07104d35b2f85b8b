import { closeSync, openSync, read, readSync } from 'node:fs';
import { freemem } from 'node:os';

/**
 * A file that is not in the page cache is read ahead of the parser, several pieces at once.
 *
 * The parser reads 1 MiB at a time, one read after another; the kernel's own read-ahead then keeps
 * about one window in flight, and on the development machine's virtual disk `read --stats` of a
 * cold 0.47 GB capture spent 0.14-0.18 s of its 0.35 s waiting in read() (the disk alone, `dd
 * bs=1M`, takes 0.19 s; tcpdump, whose small reads overlap with its work, 0.22-0.28 s). Four reads
 * of 4 MiB in flight at a time (libuv's thread pool), queued before parsing starts, bring the
 * pages in while the parser works: 0.20 s instead of 0.27 s (median of 6; docs/pcap.md, "Cold
 * files").
 *
 * Only for a file that is cold: on a file already in the page cache the same reads are copies that
 * take CPU and memory bandwidth from the parser (+25 ms on the 1 M file, +60 ms on the 2 M one).
 * Cold is told by timing two 16 KiB reads, at the start and in the middle: from the page cache
 * each takes about 20 µs here, from the disk 160 µs or more; both must be slow, so one read that
 * was merely preempted does not start a prefetch. Pieces are queued for at most half the memory
 * the kernel reports available, so what is read ahead is not evicted before it is parsed.
 */

const PROBE_BYTES = 16 << 10;
/** A 16 KiB read slower than this came from the disk (page cache: ~20 µs; disk: 160 µs and more). */
const COLD_PROBE_NS = 100_000;
const PIECE_BYTES = 4 << 20;

export interface Prefetch {
  /** Pieces queued. */
  pieces: number;
}

export interface PrefetchOptions {
  /** A probe read slower than this (ns) means cold (default 100 µs; tests: 0 or Infinity). */
  coldNs?: number;
  /** Called once every piece has been read and the file closed (tests). */
  onDone?: () => void;
}

/** Starts reading `path` ahead into the page cache if it is cold; undefined if it is warm (or small). */
export function prefetchIfCold(path: string, size: number, o: PrefetchOptions = {}): Prefetch | undefined {
  if (size < 4 * PIECE_BYTES) return undefined;
  const coldNs = o.coldNs ?? COLD_PROBE_NS;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  let keep = false;
  try {
    const probe = Buffer.alloc(PROBE_BYTES);
    readSync(fd, probe, 0, 0, 0); // the call's own first-use costs, untimed
    if (!slowRead(fd, probe, 0, coldNs) || !slowRead(fd, probe, Math.floor(size / 2 / 4096) * 4096, coldNs))
      return undefined;
    const limit = Math.min(size, Math.floor(freemem() / 2));
    const scratch = Buffer.allocUnsafe(PIECE_BYTES);
    let pending = 0;
    const done = () => {
      if (--pending > 0) return;
      closeSync(fd);
      o.onDone?.();
    };
    for (let at = 0; at < limit; at += PIECE_BYTES) {
      pending++;
      // Every piece lands in the same scratch buffer: only the page cache keeps what was read.
      read(fd, scratch, 0, Math.min(PIECE_BYTES, limit - at), at, done);
    }
    keep = pending > 0;
    return keep ? { pieces: pending } : undefined;
  } finally {
    if (!keep) closeSync(fd);
  }
}

function slowRead(fd: number, buf: Buffer, at: number, coldNs: number): boolean {
  const t = process.hrtime.bigint();
  readSync(fd, buf, 0, buf.length, at);
  return Number(process.hrtime.bigint() - t) >= coldNs;
}
