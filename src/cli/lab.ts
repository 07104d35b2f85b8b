import { usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { FAULTS, findFault, findTopology, labDown, labTopology, labUp, listStates, TOPOLOGIES, variantOf, type LabState } from '../lab/lab.js';
import { parseSeed, VARIANT_TOPOLOGIES } from '../lab/variant.js';
import { DEFAULT_INSTANCE } from '../lab/names.js';
import { checkSymptom } from '../lab/probe.js';
import { parseCommandArgs, type Command } from './command.js';
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
  summary: 'build, break and remove the built-in fault lab (network namespaces hd-*)',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    const host = localHost();
    switch (sub) {
      case 'list': {
        parseCommandArgs('lab list', rest, {});
        const lines = ['topologies:'];
        for (const t of TOPOLOGIES) lines.push(`  ${t.name.padEnd(22)} ${t.description}`);
        lines.push('', 'faults (--fault NAME):');
        for (const f of FAULTS) lines.push(`  ${f.name.padEnd(22)} [${f.topology}] ${f.description}`);
        io.stdout(`${lines.join('\n')}\n`);
        return 0;
      }
      case 'up': {
        const { values, positionals } = parseCommandArgs(
          'lab up',
          rest,
          { fault: { type: 'string' }, name: { type: 'string' }, variant: { type: 'string' } },
          true,
        );
        const variant = values.variant === undefined ? undefined : parseSeed(values.variant);
        if (positionals.length !== 1) throw usageError('lab up needs one TOPOLOGY', `choose one of: ${TOPOLOGIES.map((t) => t.name).join(', ')}`);
        findTopology(positionals[0]!);
        requireRoot(host, 'lab up');
        const state = await labUp({
          host,
          topology: positionals[0]!,
          ...(values.fault ? { fault: values.fault } : {}),
          ...(values.name ? { instance: values.name } : {}),
          ...(variant !== undefined ? { variant } : {}),
        });
        const topology = labTopology(state);
        const lines = [
          `lab '${state.instance}' is up: ${topology.name}${state.fault ? ` with fault ${state.fault}` : ''}${state.variant !== undefined ? ` (variant ${state.variant})` : ''}`,
          `  hypervisor: ${state.hypervisor}  (uplink ${topology.uplink.ifname} ${topology.uplink.address})`,
          `  client:     ${state.client}`,
          ...guestKindLine(state),
          ...topology.targets.map(
            (t) =>
              `  target ${t.name}: ${t.address}${t.address6 ? ` ${t.address6}` : ''} tcp/${t.port} ${topology.name === 'docker' ? `in Docker container ${t.name} on hd-${state.instance}-${t.role}` : `in hd-${state.instance}-${t.role}`}, backend ${t.backend}` +
              (t.published ? `, published ${t.published.address}:${t.published.port}` : ''),
          ),
          `try: hopdump path --netns ${state.hypervisor} --target ${topology.suggestedTarget ?? topology.targets[0]!.address}`,
        ];
        // A fault only a sender inside the host sees (macvlan isolation): probe from there.
        const from = state.fault ? findFault(state.fault).symptom.from : undefined;
        if (from) {
          const t = topology.targets.find((x) => x.name === findFault(state.fault!).target)!;
          lines.push(`     hopdump diagnose --netns ${state.hypervisor} --target ${t.address} --from netns:hd-${state.instance}-${from}`);
        }
        // A fault that breaks IPv6 only (NDP): it shows at the target's IPv6 address.
        const only6 = state.fault ? findFault(state.fault) : undefined;
        if (only6?.family === 6) {
          const t = topology.targets.find((x) => x.name === only6.target)!;
          lines.push(`     hopdump diagnose --netns ${state.hypervisor} --target ${t.address6}   # ${only6.name} breaks IPv6 only`);
        }
        io.stdout(`${lines.join('\n')}\n`);
        return 0;
      }
      case 'down': {
        const { values } = parseCommandArgs('lab down', rest, { name: { type: 'string' } });
        requireRoot(host, 'lab down');
        const removed = await labDown({ host, ...(values.name ? { instance: values.name } : {}) });
        io.stdout(removed.length ? `removed ${removed.join(' ')}\n` : 'no lab namespaces to remove\n');
        return 0;
      }
      case 'status': {
        const { values } = parseCommandArgs('lab status', rest, { json: { type: 'boolean', default: false } });
        requireRoot(host, 'lab status');
        const present = new Set(await host.listNetns());
        const report = await Promise.all(
          listStates().map(async (s) => {
            const missing = s.namespaces.filter((n) => !present.has(n));
            // A lab made by another hopdump version may have a topology this one does not know.
            const known = TOPOLOGIES.some((t) => t.name === s.topology);
            if (!known) return { ...s, missingNamespaces: missing, targets: [], note: `topology '${s.topology}' is unknown to this hopdump` };
            const topology = labTopology(s);
            const targets = missing.length
              ? []
              : await Promise.all(
                  topology.targets.map(async (t) => {
                    const [ping, tcp, ping6] = await Promise.all([
                      checkSymptom(host, topology, s.client, { kind: 'ping-fails', target: t.name }),
                      checkSymptom(host, topology, s.client, { kind: 'tcp-fails', target: t.name }),
                      // An IPv6-only fault (NDP) shows only here.
                      t.address6 ? checkSymptom(host, topology, s.client, { kind: 'ping-fails', target: t.name, family: 6 }) : undefined,
                    ]);
                    return {
                      name: t.name,
                      address: t.address,
                      ping: !ping.present,
                      tcp: !tcp.present,
                      ...(t.address6 && ping6 ? { address6: t.address6, ping6: !ping6.present } : {}),
                    };
                  }),
                );
            return { ...s, missingNamespaces: missing, targets };
          }),
        );
        if (values.json) {
          io.stdout(`${JSON.stringify(report, null, 2)}\n`);
          return 0;
        }
        if (report.length === 0) {
          io.stdout('no lab is up (hopdump lab up bridged)\n');
          return 0;
        }
        const lines: string[] = [];
        for (const r of report) {
          lines.push(
            `lab '${r.instance}': ${r.topology}${r.fault ? `, fault ${r.fault}` : ''}${r.variant !== undefined ? `, variant ${r.variant}` : ''}, up since ${r.createdAt}`,
          );
          if (r.missingNamespaces.length) lines.push(`  missing namespaces: ${r.missingNamespaces.join(' ')}`);
          for (const t of r.targets) {
            const v6 = 'ping6' in t ? `, ping ${t.address6} ${t.ping6 ? 'ok' : 'FAILS'}` : '';
            lines.push(`  ${t.name} ${t.address}: ping ${t.ping ? 'ok' : 'FAILS'}, tcp ${t.tcp ? 'ok' : 'FAILS'}${v6}`);
          }
        }
        io.stdout(`${lines.join('\n')}\n`);
        return 0;
      }
      default:
        throw usageError(sub ? `unknown lab command '${sub}'` : 'lab needs a command', 'one of: up, down, list, status');
    }
  },
};

/** The kind of a variant's QEMU guest (libvirt with or without its agent, or plain QEMU), for `lab up`. */
function guestKindLine(state: LabState): string[] {
  const kind = variantOf(state)?.drawn.guestKind;
  const text: Record<string, string> = {
    'libvirt+agent': 'libvirt domain with a guest agent',
    libvirt: 'libvirt domain without a guest agent',
    qemu: 'plain QEMU, no libvirt, no guest agent',
  };
  return kind && text[kind] ? [`  guest:      ${text[kind]}`] : [];
}
