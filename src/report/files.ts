import { closeSync, constants, lstatSync, mkdirSync, openSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { environmentError, fileError } from '../errors.js';

/**
 * Where a run's files go, written so that nobody else's link or file is ever followed or
 * overwritten (captures hold users' traffic; hopdump runs as root, often in a shared /tmp):
 * - the run's directory is new: a plain mkdir (0700), its name unique even for two runs in the
 *   same second (-2, -3, ... appended); with --out DIR, DIR may exist (a directory, not a link);
 * - missing parents are made one at a time; an existing parent that is a symbolic link is followed
 *   only when root owns it (as the kernel's protected_symlinks does in sticky directories);
 * - every file is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: a file or link already
 *   there is refused with a clear error, never followed or truncated.
 */
export function createRunDir(out: string | undefined, now = new Date()): string {
  if (out !== undefined) {
    const existing = lstatOrUndefined(out);
    if (existing?.isSymbolicLink())
      throw environmentError(`cannot write into ${out}: it is a symbolic link (refused)`, 'name the real directory');
    if (existing && !existing.isDirectory()) throw environmentError(`cannot write into ${out}: it is not a directory`);
    if (existing) return out;
    makeParents(dirname(resolve(out)));
    mkdirNew(out);
    return out;
  }
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `hopdump-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  for (let n = 1; n < 1000; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    try {
      mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(err, 'write');
    }
  }
  throw environmentError(`cannot make a run directory: ${base} and 998 more exist`, 'name one with --out DIR');
}

/** A new file, 0600, never through a link or over an existing file; returns its descriptor. */
export function openNew(file: string): number {
  try {
    return openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && lstatOrUndefined(file)?.isSymbolicLink()) {
      throw environmentError(`cannot write ${file}: it is a symbolic link (refused)`);
    }
    throw fileError(err, 'write');
  }
}

export function writeNew(file: string, text: string): void {
  const fd = openNew(file);
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

export function runFile(dir: string, name: string): string {
  return join(dir, name);
}

/** Refuses at once (before a capture that takes seconds) when one of the run's files is already there. */
export function requireAbsent(dir: string, names: string[]): void {
  for (const name of names) {
    const st = lstatOrUndefined(join(dir, name));
    if (st?.isSymbolicLink())
      throw environmentError(`cannot write ${join(dir, name)}: it is a symbolic link (refused)`);
    if (st)
      throw environmentError(
        `cannot write ${join(dir, name)}: it already exists (not overwritten)`,
        'choose another --out DIR',
      );
  }
}

function mkdirNew(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    throw fileError(err, 'write');
  }
}

/** Makes the missing directories of an absolute path, one at a time, refusing links root does not own. */
function makeParents(abs: string): void {
  const parts = abs.split(sep).filter(Boolean);
  let at: string = sep;
  for (const part of parts) {
    at = join(at, part);
    const st = lstatOrUndefined(at);
    if (!st) {
      mkdirNew(at);
      continue;
    }
    if (st.isSymbolicLink() && st.uid !== 0)
      throw environmentError(`cannot write under ${at}: it is a symbolic link owned by uid ${st.uid} (refused)`);
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(err);
  }
}
