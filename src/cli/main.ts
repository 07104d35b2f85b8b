import { once } from 'node:events';
import { HopdumpError } from '../errors.js';
import { runAllCleanups } from '../host/cleanup.js';
import type { CliIO } from './command.js';
import { COMMANDS, isHidden } from './commands.js';
import { topHelp } from './help.js';
import { version } from '../version.js';

export const EXIT = { ok: 0, problemFound: 1, usage: 2, failed: 3 } as const;

export function defaultIO(): CliIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    drained: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : null),
  };
}

/**
 * The process's own entry (bin/hopdump, the single executable's src/cli/exe.ts): runs `argv` with
 * stdout as the terminal's, and sets the exit code.
 */
export async function main(argv: string[]): Promise<void> {
  // `hopdump read big.pcap | head`: a closed pipe ends the output quietly, like tcpdump.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await run(argv);
}

/** Runs one hopdump invocation and returns its exit code; never throws. */
export async function run(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  // For benchmarks: the peak RSS of this process, printed on stderr at exit.
  if (process.env.HOPDUMP_REPORT_RSS === '1') {
    process.once('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
  }
  const debug = argv.includes('--debug') || process.env.HOPDUMP_DEBUG === '1';
  const args = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topHelp(COMMANDS.filter((c) => !isHidden(c))));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`hopdump ${version()}\n`);
    return EXIT.ok;
  }
  // Only the command that runs is loaded (`read`: the pcap engine alone).
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr(`hopdump: unknown command '${name}': see 'hopdump --help'\n`);
    return EXIT.usage;
  }
  const command = await entry.load();
  // A hidden command (the shells' __complete) takes every word as it is, --help included.
  if (!isHidden(entry) && (rest.includes('--help') || rest.includes('-h'))) {
    io.stdout(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, debug ? { ...io, debug } : io);
  } catch (err) {
    return reportError(command.name, err, io, debug);
  } finally {
    // Whatever a command started and did not undo (an error half-way, a forgotten stop) is undone
    // here on every way out: normal exit and errors alike; signals run the same list (host/cleanup.ts).
    for (const failure of await runAllCleanups()) io.stderr(`hopdump ${command.name}: cleanup failed: ${failure}\n`);
  }
}

function reportError(name: string, err: unknown, io: CliIO, debug: boolean): number {
  if (err instanceof HopdumpError) {
    io.stderr(`hopdump ${name}: ${err.oneLine()}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    return err.kind === 'usage' ? EXIT.usage : EXIT.failed;
  }
  const msg = err instanceof Error ? err.message : String(err);
  io.stderr(`hopdump ${name}: internal error: ${msg.split('\n')[0]} (re-run with --debug for details)\n`);
  if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
  return EXIT.failed;
}
