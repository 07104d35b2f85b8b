/**
 * The error vocabulary shared by every layer. The CLI maps `kind` to an exit
 * code and prints `message` as one line; nothing below the CLI exits.
 *
 * - usage:       the operator asked for something malformed or unknown (exit 2)
 * - environment: hopdump could not do its job here: not root, a program or a
 *                namespace missing, a command that failed (exit 3)
 */
export type ErrorKind = 'usage' | 'environment';

export class HopdumpError extends Error {
  readonly kind: ErrorKind;
  /** What to do next, appended to the one-line message when present. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HopdumpError';
    this.kind = kind;
    this.hint = options.hint;
  }

  /** The single line the CLI prints. */
  oneLine(): string {
    return this.hint ? `${this.message}: ${this.hint}` : this.message;
  }
}

export function usageError(message: string, hint?: string): HopdumpError {
  return new HopdumpError('usage', message, hint === undefined ? {} : { hint });
}

export function environmentError(message: string, hint?: string, cause?: unknown): HopdumpError {
  return new HopdumpError('environment', message, { ...(hint === undefined ? {} : { hint }), cause });
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'it is a symbolic link (not followed)',
  EEXIST: 'it already exists (not overwritten)',
  ENOSPC: 'no space left on the device',
};

/**
 * The one message for a file that could not be read or written: "cannot read FILE: no such file".
 * Other errors are returned as they are (a bug, not the operator's file).
 */
export function fileError(err: unknown, verb: 'read' | 'write' = 'read'): Error {
  const e = err as NodeJS.ErrnoException;
  const why = e && typeof e.code === 'string' ? FILE_ERRORS[e.code] : undefined;
  if (why) return environmentError(`cannot ${verb} ${e.path ?? 'file'}: ${why}`);
  return err instanceof Error ? err : new Error(String(err));
}
