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
