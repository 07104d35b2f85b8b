import { analyze } from '../analyze/analyze.js';
import { usageError } from '../errors.js';
import { renderReport } from '../report/text.js';
import { version } from '../version.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: summaryOf('analyze'),
  usage: `usage: hopdump analyze FILE... [--order given|auto] [--target ADDR] [--window SECONDS] [--threads 1|2] [--json] [--no-color]

The seeds' manual workflow: captures taken at several points (tcpdump -w on the
NIC, the bridge port, the tap, inside the guest). Each file (and each interface
of a pcapng file) is a hop. The same correlation and loss verdict as diagnose,
without host checks.

  --order given   hops in the order of the files on the command line, uplink first
  --order auto    infer the order from timestamps and TTLs (default)
  --target ADDR   the address the traffic is for (default: the most probed one)
  --window S      a packet not seen at the next hop within S seconds is lost (default 5)
  --threads N     2: decode on a second thread while this one matches (the
                  default for files over 64 MiB on two or more cores); 1: one thread
  --json          the report as JSON (schema/report.schema.json)

Exit codes: 0 nothing lost, 1 loss found, 2 usage, 3 a file could not be read.
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      'analyze',
      args,
      {
        order: { type: 'string', default: 'auto' },
        target: { type: 'string' },
        window: { type: 'string' },
        threads: { type: 'string' },
        json: { type: 'boolean', default: false },
        'no-color': { type: 'boolean', default: false },
      },
      true,
    );
    if (positionals.length === 0) throw usageError('analyze needs capture files', "see 'hopdump analyze --help'");
    if (values.order !== 'given' && values.order !== 'auto')
      throw usageError(`--order ${values.order} is neither given nor auto`);
    const window = values.window === undefined ? undefined : Number(values.window);
    if (window !== undefined && !(window > 0 && window <= 3600))
      throw usageError(`--window ${values.window} is not a number of seconds`);
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && threads !== 1 && threads !== 2)
      throw usageError(`--threads ${values.threads} is neither 1 nor 2`);
    const report = await analyze({
      files: positionals,
      order: values.order,
      ...(values.target ? { target: values.target } : {}),
      ...(window !== undefined ? { settleSeconds: window } : {}),
      ...(threads !== undefined ? { threads } : {}),
      version: version(),
    });
    const color = io.isTTY && !values['no-color'] && !values.json && process.env.NO_COLOR === undefined;
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { color }));
    return report.status === 'ok' ? 0 : 1;
  },
};
