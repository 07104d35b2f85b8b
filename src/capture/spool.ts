import { constants, open as openCb, promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { registerCleanup } from '../host/cleanup.js';

const openFd = promisify(openCb);

/**
 * Where a live capture's tcpdump writes: a file, not a pipe to hopdump.
 *
 * With a pipe, tcpdump blocks whenever hopdump is slower than the traffic (a
 * garbage collection, a burst, the four other readers): the pipe holds 64 KiB,
 * tcpdump's ring a few thousand packets, and then the kernel drops. Writing to
 * a file, tcpdump never waits for hopdump; hopdump follows the file as it grows
 * and reads the rest after tcpdump has stopped, so every packet tcpdump took is
 * read however slow the reader is (docs/pcap.md, "Live capture").
 *
 * The files live in one private directory (0700, files 0600 created with
 * O_EXCL|O_NOFOLLOW: they hold the traffic) under $TMPDIR, removed when the
 * session ends and on every exit path.
 */
export interface Spool {
  readonly dir: string;
  /** A new file in the spool, opened for writing; the caller hands `fd` to tcpdump and closes it. */
  create(name: string): Promise<{ path: string; fd: number }>;
  remove(): Promise<void>;
}

const PREFIX = 'hopdump-spool-';

/**
 * Removes the spools of hopdumps that are gone (killed with SIGKILL, which no cleanup survives):
 * directories named for a pid that no longer runs, owned by this user, never a symlink.
 */
export async function removeStaleSpools(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const names = await fsp.readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^hopdump-spool-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const path = join(root, name);
    const st = await fsp.lstat(path).catch(() => undefined);
    if (!st?.isDirectory() || st.uid !== process.getuid?.()) continue;
    await fsp.rm(path, { recursive: true, force: true }).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openSpool(): Promise<Spool> {
  await removeStaleSpools();
  // The pid in the name lets a later run remove this spool if this one is killed.
  const dir = await fsp.mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  await fsp.chmod(dir, 0o700);
  const remove = () => fsp.rm(dir, { recursive: true, force: true });
  const registration = registerCleanup(`remove ${dir}`, remove);
  return {
    dir,
    async create(name: string) {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`bad spool file name ${JSON.stringify(name)}`);
      const path = join(dir, name);
      // A plain descriptor (not a FileHandle, which the garbage collector would close).
      const fd = await openFd(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      return { path, fd };
    },
    async remove() {
      registration.release();
      await remove();
    },
  };
}

export interface FollowOptions {
  /** Resolves when the writer has finished: after it, end-of-file is the end. */
  writerDone: Promise<unknown>;
  /** How long to wait at end-of-file before looking again while the writer runs. */
  pollMs?: number;
  /** Called once when the file has grown past this many bytes (the caller stops the writer). */
  maxBytes?: number;
  onMaxBytes?: () => void;
}

const CHUNK = 1 << 20;

/**
 * The bytes of a file that another process is still writing, as a stream (like
 * `tail -c +1 -f`): reads what is there, waits at end-of-file, and ends at
 * end-of-file once the writer is done.
 */
export function followFile(path: string, o: FollowOptions): Readable {
  let handle: fsp.FileHandle | undefined;
  let position = 0;
  let writerDone = false;
  let warned = false;
  void o.writerDone.then(
    () => (writerDone = true),
    () => (writerDone = true),
  );
  const pollMs = o.pollMs ?? 50;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      void pump();
    },
    destroy(err, cb) {
      const h = handle;
      handle = undefined;
      (h ? h.close() : Promise.resolve()).then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
  let pumping = false;
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      handle ??= await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      for (;;) {
        if (stream.destroyed) return;
        // Read whether the writer was done before reading: a read that finds end-of-file after
        // the writer ended has seen everything.
        const done = writerDone;
        const buf = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await handle.read(buf, 0, CHUNK, position);
        if (bytesRead > 0) {
          position += bytesRead;
          if (o.maxBytes !== undefined && position > o.maxBytes && !warned) {
            warned = true;
            o.onMaxBytes?.();
          }
          if (!stream.push(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead))) return;
          continue;
        }
        if (done) {
          stream.push(null);
          return;
        }
        await new Promise((res) => setTimeout(res, pollMs));
      }
    } catch (err) {
      stream.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      pumping = false;
    }
  }
  return stream;
}
