/**
 * The man pages, generated from what --help prints (each command's usage text, read by usage.ts,
 * and the top help's parts in help.ts), so the two cannot drift: hopdump(1), the overview, and
 * hopdump-COMMAND(1) for each command. roff with the man(7) macros; scripts/gen-man.mjs writes them.
 */
import { DEFAULT_RUNS_ROOT } from '../report/runs.js';
import { version } from '../version.js';
import { commands } from './commands.js';
import type { Command } from './command.js';
import { EXIT_CODES, GLOBAL_OPTIONS, TAGLINE } from './help.js';
import { OPTION_TOKEN, parseUsage, type ListEntry, type UsageBlock } from './usage.js';

/** Text made safe for roff: backslashes, hyphens as minus signs (options), non-ASCII as \[uXXXX]. */
export function roffEscape(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x20-\x7e]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** One line of roff text: a leading dot or quote would make it a request. */
function textLine(escaped: string): string {
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** Prose: options in bold, the rest escaped. */
function inline(text: string): string {
  return text
    .split(new RegExp(`(${OPTION_TOKEN.source})`))
    .map((piece, i) => (i % 2 === 1 ? `\\fB${roffEscape(piece)}\\fR` : roffEscape(piece)))
    .join('');
}

/** A synopsis or a list entry's term: options and literal words bold, VALUE names italic. */
function syntax(text: string): string {
  const lead = /^hopdump(?: [a-z][a-z-]*(?![\w|-]))*/.exec(text)?.[0] ?? '';
  const rest = text.slice(lead.length);
  const body = rest
    .split(/((?<![\w-])--?[A-Za-z][\w-]*|\b[A-Z][A-Z0-9_]*\b|(?<![\w:-])[a-z][a-z0-9-]*(?![\w:@[-]))/)
    .map((piece, i) => {
      if (i % 2 === 0) return roffEscape(piece);
      if (/^[A-Z]/.test(piece)) return `\\fI${roffEscape(piece)}\\fR`;
      return `\\fB${roffEscape(piece)}\\fR`;
    })
    .join('');
  return `${lead ? `\\fB${roffEscape(lead)}\\fR` : ''}${body}`;
}

function quoted(arg: string): string {
  return `"${arg.replace(/"/g, '""')}"`;
}

function header(title: string): string[] {
  return [`.TH ${quoted(roffEscape(title.toUpperCase()))} 1 "" ${quoted(`hopdump ${version()}`)} "hopdump manual"`];
}

function entries(list: ListEntry[]): string[] {
  return list.flatMap((e) => ['.TP', textLine(syntax(e.term)), ...e.text.map((l) => textLine(inline(l)))]);
}

function prose(lines: string[]): string[] {
  return ['.PP', ...lines.map((l) => textLine(inline(l)))];
}

function isOptionList(b: UsageBlock): boolean {
  return b.kind === 'list' && b.entries.every((e) => e.term.startsWith('-'));
}

/** One command's page from its usage text. */
export function commandPage(command: Pick<Command, 'name' | 'summary' | 'usage'>): string {
  const parsed = parseUsage(command.usage);
  const description: string[] = [];
  const options: string[] = [];
  const notes: string[] = [];
  const exit: string[] = [];
  let seenOptions = false;
  for (const b of parsed.blocks) {
    if (b.kind === 'exit') {
      exit.push(...b.codes.flatMap((c) => ['.TP', `.B ${c.code}`, textLine(inline(c.text))]));
    } else if (isOptionList(b) && b.kind === 'list') {
      seenOptions = true;
      options.push(...entries(b.entries));
    } else {
      const lines = b.kind === 'list' ? entries(b.entries) : b.kind === 'prose' ? prose(b.lines) : [];
      (seenOptions && description.length ? notes : description).push(...lines);
    }
  }
  const out = [
    ...header(`hopdump-${command.name}`),
    '.SH NAME',
    `hopdump\\-${roffEscape(command.name)} \\- ${roffEscape(command.summary)}`,
    '.SH SYNOPSIS',
    '.nh',
    '.ad l',
    ...parsed.synopses.flatMap((s) => ['.PP', textLine(syntax(s))]),
    '.ad',
    '.hy',
    ...(description.length ? ['.SH DESCRIPTION', ...description] : []),
    ...(options.length ? ['.SH OPTIONS', ...options] : []),
    ...(notes.length ? ['.SH NOTES', ...notes] : []),
    ...(exit.length ? ['.SH "EXIT STATUS"', ...exit] : []),
    '.SH "SEE ALSO"',
    '.BR hopdump (1)',
  ];
  return `${out.join('\n')}\n`;
}

/** What hopdump reads from its environment (grep src/ for process.env), for hopdump(1). */
const ENVIRONMENT: ReadonlyArray<[string, string]> = [
  ['HOPDUMP_RUNS', `the runs store's root (default ${DEFAULT_RUNS_ROOT}); --runs overrides it`],
  ['HOPDUMP_DEBUG', '1: as --debug, stack traces on errors'],
  [
    'HOPDUMP_HOST_ROOT',
    "where the guests' own files (QEMU, libvirt, Proxmox VE, LXC, Incus) are read from (default /)",
  ],
  ['HOPDUMP_RECORD_FIXTURE', "FILE: diagnose writes the run's inputs and result there, as a test fixture"],
  ['HOPDUMP_REPORT_RSS', '1: print the peak resident memory on standard error at exit (benchmarks)'],
  ['NO_COLOR', 'set: no colour, even on a terminal'],
  [
    'DOCKER_HOST',
    "the Docker Engine API (unix://, tcp://, ssh://), as the docker CLI takes it; else the docker context, the default socket, the rootless one and Podman's",
  ],
  ['DOCKER_CONTEXT, DOCKER_CONFIG', "the docker CLI's context, and where its configuration is"],
  ['XDG_RUNTIME_DIR', "where a rootless Docker's socket is"],
  ['OVS_RUNDIR', "Open vSwitch's run directory (its database and control sockets)"],
  ['OVN_NB_DB, OVN_SB_DB, OVN_RUNDIR', "OVN's databases, as ovn-nbctl finds them"],
  ['LIBVIRT_DEFAULT_URI', "the libvirt connection (virsh's own variable; a session URI is not used as root)"],
  ['PATH', 'where the programs hopdump runs are found (tcpdump, ip, nft, virsh, ovs-vsctl, ...)'],
];

/** hopdump(1): the commands, the global options, exit status, environment and files. */
export function overviewPage(list: ReadonlyArray<Pick<Command, 'name' | 'summary'>>): string {
  const out = [
    ...header('hopdump'),
    '.SH NAME',
    `hopdump \\- ${roffEscape(TAGLINE)}`,
    '.SH SYNOPSIS',
    '.nh',
    '.ad l',
    '.PP',
    '\\fBhopdump\\fR \\fICOMMAND\\fR [\\fIoptions\\fR]',
    '.PP',
    '\\fBhopdump\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR',
    '.PP',
    '\\fBhopdump \\-\\-version\\fR',
    '.ad',
    '.hy',
    '.SH DESCRIPTION',
    '.PP',
    `hopdump's commands ${inline(TAGLINE.replace(/^find/, 'find out'))}.`,
    'Each command has its page,',
    '.BR hopdump\\-\\fICOMMAND\\fR (1),',
    'made from what',
    '.B hopdump',
    '.I COMMAND',
    '.B \\-\\-help',
    'prints.',
    '.SH COMMANDS',
    ...list.flatMap((c) => [
      '.TP',
      `.B ${roffEscape(c.name)}`,
      `${inline(c.summary)}; see`,
      `.BR hopdump\\-${roffEscape(c.name)} (1).`,
    ]),
    '.SH OPTIONS',
    ...GLOBAL_OPTIONS.flatMap((o) => [
      '.TP',
      o.names.map((n) => `\\fB${roffEscape(n)}\\fR`).join(', '),
      textLine(inline(o.text)),
    ]),
    '.SH "EXIT STATUS"',
    ...EXIT_CODES.flatMap((e) => ['.TP', `.B ${e.code}`, textLine(inline(e.text))]),
    '.SH ENVIRONMENT',
    ...ENVIRONMENT.flatMap(([name, text]) => ['.TP', `.B ${quoted(roffEscape(name))}`, textLine(inline(text))]),
    '.SH FILES',
    '.TP',
    `.I ${roffEscape(DEFAULT_RUNS_ROOT)}`,
    'the runs store: one directory per diagnose run (report.json, report.txt, capture.pcapng), the oldest removed first; see',
    '.BR hopdump\\-runs (1).',
    '.SH "SEE ALSO"',
    ...list.map((c) => `.BR hopdump\\-${roffEscape(c.name)} (1),`),
    '.BR tcpdump (8),',
    '.BR ip (8)',
  ];
  return `${out.join('\n')}\n`;
}

/** Every page: hopdump.1 and hopdump-COMMAND.1 for each command that --help lists. */
export async function manPages(): Promise<Array<{ name: string; text: string }>> {
  const list = await commands();
  return [
    { name: 'hopdump.1', text: overviewPage(list) },
    ...list.map((c) => ({ name: `hopdump-${c.name}.1`, text: commandPage(c) })),
  ];
}
