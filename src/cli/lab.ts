import { usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { FAULTS, findTopology, labDown, labUp, TOPOLOGIES } from '../lab/lab.js';
import { describeLab, labStatus, statusLines } from '../lab/status.js';
import { parseSeed, VARIANT_TOPOLOGIES } from '../lab/variant.js';
import { DEFAULT_INSTANCE } from '../lab/names.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type CliIO, type Command } from './command.js';
import { requireRoot } from './preflight.js';

const USAGE = `usage: hopdump lab up TOPOLOGY [--fault NAME] [--name NAME] [--variant SEED]
       hopdump lab down [--name NAME]
       hopdump lab list
       hopdump lab status [--json]

The built-in fault lab: a hypervisor or Docker host, a client and guests, each
in its own network namespace hd-<name>-<role> (default name: ${DEFAULT_INSTANCE}), with
documentation addresses only. Nothing is added to the root namespace.

  up TOPOLOGY    build TOPOLOGY (see 'lab list'); --fault breaks it one way;
                 --variant SEED draws interface names, addresses, MACs and
                 ports from SEED, as another host would have them
                 (${VARIANT_TOPOLOGIES.join(', ')})
  down           remove the lab named by --name, or without --name every lab
                 and every leftover hd-* namespace, with the processes in them
  list           topologies and faults, one line each
  status         the labs that are up, and whether their targets answer
`;

export const labCommand: Command = {
  name: 'lab',
  summary: summaryOf('lab'),
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'list':
        return list(rest, io);
      case 'up':
        return up(rest, io);
      case 'down':
        return down(rest, io);
      case 'status':
        return status(rest, io);
      default:
        throw usageError(
          sub ? `unknown lab command '${sub}'` : 'lab needs a command',
          'one of: up, down, list, status',
        );
    }
  },
};

type Io = CliIO;

function list(rest: string[], io: Io): number {
  parseCommandArgs('lab list', rest, {});
  const lines = ['topologies:'];
  for (const t of TOPOLOGIES) lines.push(`  ${t.name.padEnd(22)} ${t.description}`);
  lines.push('', 'faults (--fault NAME):');
  for (const f of FAULTS) lines.push(`  ${f.name.padEnd(22)} [${f.topology}] ${f.description}`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

async function up(rest: string[], io: Io): Promise<number> {
  const host = localHost();
  const { values, positionals } = parseCommandArgs(
    'lab up',
    rest,
    { fault: { type: 'string' }, name: { type: 'string' }, variant: { type: 'string' } },
    true,
  );
  const variant = values.variant === undefined ? undefined : parseSeed(values.variant);
  if (positionals.length !== 1)
    throw usageError('lab up needs one TOPOLOGY', `choose one of: ${TOPOLOGIES.map((t) => t.name).join(', ')}`);
  findTopology(positionals[0]!);
  requireRoot(host, 'lab up');
  const state = await labUp({
    host,
    topology: positionals[0]!,
    ...(values.fault ? { fault: values.fault } : {}),
    ...(values.name ? { instance: values.name } : {}),
    ...(variant !== undefined ? { variant } : {}),
  });
  io.stdout(`${describeLab(state).join('\n')}\n`);
  return 0;
}

async function down(rest: string[], io: Io): Promise<number> {
  const host = localHost();
  const { values } = parseCommandArgs('lab down', rest, { name: { type: 'string' } });
  requireRoot(host, 'lab down');
  const removed = await labDown({ host, ...(values.name ? { instance: values.name } : {}) });
  io.stdout(removed.length ? `removed ${removed.join(' ')}\n` : 'no lab namespaces to remove\n');
  return 0;
}

async function status(rest: string[], io: Io): Promise<number> {
  const host = localHost();
  const { values } = parseCommandArgs('lab status', rest, { json: { type: 'boolean', default: false } });
  requireRoot(host, 'lab status');
  const report = await labStatus(host);
  if (values.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(`${statusLines(report).join('\n')}\n`);
  return 0;
}
