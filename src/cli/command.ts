import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';

/** Where a command writes; tests pass their own to capture output. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal: colour and live progress only then. */
  isTTY: boolean;
  /**
   * Backpressure: a promise that resolves once stdout has drained, or null when it can take more
   * now (commands that stream millions of lines wait on it; absent: never wait).
   */
  drained?: () => Promise<void> | null;
  /** --debug: commands may say more on stderr (how a file was read, ...). */
  debug?: boolean;
}

export interface Command {
  name: string;
  /** One line for `hopdump --help`. */
  summary: string;
  /** Full usage text for `hopdump NAME --help`. */
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with hopdump's conventions: unknown flags and missing
 * values become usage errors (exit 2) with the command's name in the message.
 */
export function parseCommandArgs<T extends Options>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw usageError(`${msg.replace(/^Unknown option/, 'unknown option')}`, `see 'hopdump ${command} --help'`);
  }
}

export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
