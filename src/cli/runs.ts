import { environmentError, usageError } from '../errors.js';
import { RunsStore, runsRoot, type RunEntry } from '../report/runs.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type CliIO, type Command } from './command.js';

export const runsCommand: Command = {
  name: 'runs',
  summary: summaryOf('runs'),
  usage: `usage: hopdump runs [ID] [--runs DIR] [--json]

Lists the diagnose runs kept in the runs store, newest first: when, who started
it (cli or watch), the target, the outcome and its top cause with the device it
names, and the size on disk. With ID, that run's directory and files.

  --runs DIR   the store's root (default $HOPDUMP_RUNS, else /var/lib/hopdump/runs)
  --json       print the runs as JSON

The store keeps at most 100 runs and 1 GiB by default, removing the oldest
first, and removes only directories that carry its marker file (.hopdump-run):
never a directory given to diagnose with --out.
`,
  run: (args, io) => Promise.resolve().then(() => listRuns(args, io)),
};

function listRuns(args: string[], io: CliIO): number {
  const { values, positionals } = parseCommandArgs(
    'runs',
    args,
    { runs: { type: 'string' }, json: { type: 'boolean', default: false } },
    true,
  );
  const store = new RunsStore({ root: runsRoot(values.runs) });
  if (positionals.length > 1) throw usageError('runs takes at most one run ID', "see 'hopdump runs --help'");
  if (positionals[0] !== undefined) {
    const run = store.get(positionals[0]);
    if (!run) throw environmentError(`no run ${positionals[0]} in ${store.root}`, "see 'hopdump runs'");
    io.stdout(values.json ? `${JSON.stringify(run, null, 2)}\n` : showRun(run));
    return 0;
  }
  const runs = store.list();
  if (values.json) io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
  else if (runs.length === 0) io.stdout(`no runs in ${store.root}\n`);
  else io.stdout(table(runs));
  return 0;
}

function outcome(r: RunEntry): string {
  if (r.state !== 'done') return r.state;
  return r.status ?? '?';
}

function cause(r: RunEntry): string {
  if (r.state === 'failed') return r.error ?? '';
  return r.cause ? `${r.cause.id}${r.cause.hop ? ` at ${r.cause.hop}` : ''}` : '';
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function table(runs: RunEntry[]): string {
  const rows = [
    ['ID', 'BY', 'TARGET', 'OUTCOME', 'CAUSE', 'SIZE'],
    ...runs.map((r) => [r.id, r.by, r.target, outcome(r), cause(r), humanBytes(r.bytes)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return (
    rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
  );
}

function showRun(r: RunEntry): string {
  return [
    `run:      ${r.id} (by ${r.by})`,
    `target:   ${r.target}`,
    `started:  ${r.createdAt}`,
    `finished: ${r.finishedAt ?? '-'}`,
    `outcome:  ${outcome(r)}${cause(r) ? `: ${cause(r)}` : ''}`,
    `dir:      ${r.dir}`,
    `files:    ${r.files.join(', ') || '-'} (${humanBytes(r.bytes)})`,
    '',
  ].join('\n');
}
