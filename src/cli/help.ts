/**
 * The top-level help's parts, one source for `hopdump --help` (main.ts) and the hopdump(1) man
 * page (man.ts).
 */
export const TAGLINE = 'find where and why packets die on the way to a VM or a container';

/** Options every command takes (main.ts handles them before the command runs). */
export const GLOBAL_OPTIONS: ReadonlyArray<{ names: string[]; text: string }> = [
  { names: ['--debug'], text: 'stack traces on errors' },
  { names: ['--version', '-V'], text: 'print the version' },
  { names: ['--help', '-h'], text: "the commands; after a command, that command's options" },
];

export const EXIT_CODES: ReadonlyArray<{ code: number; text: string }> = [
  { code: 0, text: 'ok' },
  { code: 1, text: 'a problem was found' },
  { code: 2, text: 'usage error' },
  { code: 3, text: 'could not do the job' },
];

export function topHelp(list: ReadonlyArray<{ name: string; summary: string }>): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    `hopdump: ${TAGLINE}`,
    '',
    'usage: hopdump COMMAND [options]     (hopdump COMMAND --help for its options)',
    '',
    'commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `global options: ${GLOBAL_OPTIONS.map((o) => `${o.names.join('/')} (${o.text})`).join(', ')}`,
    `exit codes: ${EXIT_CODES.map((e) => `${e.code} ${e.text}`).join(', ')}`,
    '',
  ].join('\n');
}
