import { lstatSync } from 'node:fs';
import { readHopPackets } from '../correlate/packets.js';
import { encodeFixture, type DiagnoseFixture } from '../checks/fixture.js';
import { diagnose } from '../diagnose/diagnose.js';
import { environmentError, usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { createRunDir, writeNew } from '../report/files.js';
import { requireRunFilesAbsent, writeRunFiles } from '../report/run-files.js';
import { RunsStore, runsRoot } from '../report/runs.js';
import { renderReport } from '../report/text.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

const USAGE = `usage: hopdump diagnose --target T [--netns NS]
                [--probe icmp | tcp:PORT[@ADDR] | udp:PORT[@ADDR] | arp]... [--from netns:NAME | host]
                [--size BYTES] [--count N] [--duration SECONDS] [--passive] [--filter 'BPF']
                [--json] [--out DIR | --runs DIR] [--no-color] [--uplink IF] [--promisc-test]

Captures on every hop of the path to T at once (tcpdump -p: never promiscuous),
sends probes, matches the same packets across hops, names the hop where they
stop and explains why.

  --target T        as in 'hopdump path': address, MAC, interface or netns:NAME
  --netns NS        look from NS as if it were the host's root namespace
  --probe P         icmp, tcp:PORT[@ADDR], udp:PORT[@ADDR] or arp (repeatable); @ADDR sends
                    to another address, e.g. a published port that is NAT-ed to T.
                    Default: icmp, and tcp to the target's listening ports when known
  --from F          where probes come from: host (default) or netns:NAME
  --size BYTES      ICMP payload size, sent with DF set
  --count N         probes per kind (default 3)
  --passive         send nothing; watch users' traffic for --duration seconds (default 10)
  --duration S      how long --passive watches, in seconds (at most 3600)
  --filter BPF      capture filter instead of "host T" (ARP for T is always added)
  --json            print the report as JSON (schema/report.schema.json)
  --out DIR         write report.json, report.txt and capture.pcapng (mode 0600) to DIR,
                    which may exist but not hold them (never overwritten, links never
                    followed); --out - writes nothing. Default: a new run in the runs store
  --runs DIR        the runs store's root (default $HOPDUMP_RUNS, else /var/lib/hopdump/runs):
                    one 0700 directory per run, at most 100 runs and 1 GiB, the oldest
                    removed first ('hopdump runs' lists them)
  --no-color        no colour even on a terminal
  --uplink IF       where outside traffic enters, as in 'hopdump path'
  --promisc-test    opt-in experiment: send the probes again with the suspect device
                    promiscuous (ip link set DEV promisc on), then restore it, even if
                    hopdump is killed; proves or refutes a promiscuous-mode dependency

Exit codes: 0 ok, 1 degraded or broken, 2 usage, 3 could not diagnose.
`;

export const diagnoseCommand: Command = {
  name: 'diagnose',
  summary: summaryOf('diagnose'),
  usage: USAGE,
  async run(args, io) {
    const { values } = parseCommandArgs('diagnose', args, {
      target: { type: 'string' },
      netns: { type: 'string' },
      probe: { type: 'string', multiple: true },
      from: { type: 'string', default: 'host' },
      size: { type: 'string' },
      count: { type: 'string', default: '3' },
      duration: { type: 'string' },
      passive: { type: 'boolean', default: false },
      filter: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      runs: { type: 'string' },
      'no-color': { type: 'boolean', default: false },
      uplink: { type: 'string' },
      'promisc-test': { type: 'boolean', default: false },
    });
    if (!values.target) throw usageError('diagnose needs --target T', "see 'hopdump diagnose --help'");
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > 1000)
      throw usageError(`--count ${values.count} is not a number from 1 to 1000`);
    const size = values.size === undefined ? undefined : Number(values.size);
    if (size !== undefined && (!Number.isInteger(size) || size < 0 || size > 65507))
      throw usageError(`--size ${values.size} is not a payload size`);
    const duration = values.duration === undefined ? undefined : Number(values.duration);
    if (duration !== undefined && (!Number.isFinite(duration) || duration <= 0 || duration > 3600)) {
      throw usageError(`--duration ${values.duration} is not a number of seconds up to 3600`);
    }
    if (values.passive && values.probe?.length)
      throw usageError('--passive sends nothing: it does not go with --probe');
    const host = localHost();
    requireRoot(host, 'diagnose');
    if (values.out !== undefined && values.runs !== undefined)
      throw usageError("--out names the run's own directory: it does not go with --runs");
    // The run's directory first: a planted link or an old report is refused before any capture.
    const store = values.out === undefined ? new RunsStore({ root: runsRoot(values.runs) }) : undefined;
    const stored = store?.create(values.target, 'cli');
    const dir = stored?.dir ?? (values.out === '-' ? undefined : createRunDir(values.out));
    if (dir && !stored) requireRunFilesAbsent(dir);
    const color = io.isTTY && !values['no-color'] && !values.json && process.env.NO_COLOR === undefined;
    const progress = io.isTTY && !values.json ? (line: string) => io.stderr(`\r\x1b[2K${line}`) : undefined;
    // HOPDUMP_RECORD_FIXTURE=FILE: the run's inputs and result as a fixture for tests to replay (docs/architecture.md, "Fixtures").
    const fixtureFile = process.env['HOPDUMP_RECORD_FIXTURE'] || undefined;
    if (fixtureFile && lstatSync(fixtureFile, { throwIfNoEntry: false })) {
      throw environmentError(
        `HOPDUMP_RECORD_FIXTURE: ${fixtureFile} already exists (not overwritten)`,
        'name a new file',
      );
    }
    let fixture: DiagnoseFixture | undefined;
    const outcome = diagnose({
      host,
      reader: readHopPackets,
      target: values.target,
      ...(values.netns ? { netns: values.netns } : {}),
      probes: values.probe ?? [],
      from: values.from ?? 'host',
      ...(size !== undefined ? { size } : {}),
      count,
      ...(duration !== undefined ? { durationSec: duration } : {}),
      passive: values.passive ?? false,
      ...(values.filter ? { filter: values.filter } : {}),
      ...(values.uplink ? { uplink: values.uplink } : {}),
      ...(values['promisc-test'] ? { promiscTest: true } : {}),
      ...(progress ? { progress } : {}),
      ...(fixtureFile ? { record: (f: DiagnoseFixture) => (fixture = f) } : {}),
    });
    let result: Awaited<typeof outcome>;
    try {
      result = await outcome;
      if (stored && store) store.keep(stored.id, result.report, result.packets);
      else if (dir) writeRunFiles(dir, result.report, result.packets);
    } catch (err) {
      if (stored) store?.finish(stored.id, { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    const { report } = result;
    if (fixtureFile && fixture) writeNew(fixtureFile, encodeFixture(fixture));
    if (progress) io.stderr('\r\x1b[2K');
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { color }));
    return report.status === 'ok' ? 0 : 1;
  },
};
