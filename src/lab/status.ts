import type { Host } from '../host/host.js';
import { findFault, labTopology, listStates, TOPOLOGIES, variantOf, type LabState } from './lab.js';
import { checkSymptom } from './probe.js';

/** What `lab up` prints: the lab, its targets, and the commands to try on it. */
export function describeLab(state: LabState): string[] {
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
  const fault = state.fault ? findFault(state.fault) : undefined;
  // A fault only a sender inside the host sees (macvlan isolation): probe from there.
  if (fault?.symptom.from) {
    const t = topology.targets.find((x) => x.name === fault.target)!;
    lines.push(
      `     hopdump diagnose --netns ${state.hypervisor} --target ${t.address} --from netns:hd-${state.instance}-${fault.symptom.from}`,
    );
  }
  // A fault that breaks IPv6 only (NDP): it shows at the target's IPv6 address.
  if (fault?.family === 6) {
    const t = topology.targets.find((x) => x.name === fault.target)!;
    lines.push(
      `     hopdump diagnose --netns ${state.hypervisor} --target ${t.address6}   # ${fault.name} breaks IPv6 only`,
    );
  }
  return lines;
}

export interface TargetStatus {
  name: string;
  address: string;
  ping: boolean;
  tcp: boolean;
  address6?: string;
  ping6?: boolean;
}

export type LabStatus = LabState & { missingNamespaces: string[]; targets: TargetStatus[]; note?: string };

/** The labs that are up, with their namespaces present and whether each target answers ping and TCP. */
export async function labStatus(host: Host): Promise<LabStatus[]> {
  const present = new Set(await host.listNetns());
  return Promise.all(
    listStates().map(async (s): Promise<LabStatus> => {
      const missing = s.namespaces.filter((n) => !present.has(n));
      // A lab made by another hopdump version may have a topology this one does not know.
      if (!TOPOLOGIES.some((t) => t.name === s.topology)) {
        return {
          ...s,
          missingNamespaces: missing,
          targets: [],
          note: `topology '${s.topology}' is unknown to this hopdump`,
        };
      }
      let topology: ReturnType<typeof labTopology>;
      try {
        topology = labTopology(s);
      } catch (err) {
        // A lab made by another hopdump version (a variant this one cannot draw, say): listed, not probed.
        return {
          ...s,
          missingNamespaces: missing,
          targets: [],
          note: err instanceof Error ? err.message : String(err),
        };
      }
      if (missing.length) return { ...s, missingNamespaces: missing, targets: [] };
      let targets: TargetStatus[];
      try {
        targets = await probeTargets(host, topology, s.client);
      } catch (err) {
        // A lab being taken down meanwhile (`lab down`, another test suite): its namespaces gone.
        const now = new Set(await host.listNetns());
        const gone = s.namespaces.filter((n) => !now.has(n));
        if (gone.length === 0) throw err;
        return { ...s, missingNamespaces: gone, targets: [] };
      }
      return { ...s, missingNamespaces: missing, targets };
    }),
  );
}

/** Whether each of the lab's targets answers ping and TCP (and ping over IPv6) from its client. */
async function probeTargets(
  host: Host,
  topology: ReturnType<typeof labTopology>,
  client: string,
): Promise<TargetStatus[]> {
  return Promise.all(
    topology.targets.map(async (t): Promise<TargetStatus> => {
      const [ping, tcp, ping6] = await Promise.all([
        checkSymptom(host, topology, client, { kind: 'ping-fails', target: t.name }),
        checkSymptom(host, topology, client, { kind: 'tcp-fails', target: t.name }),
        // An IPv6-only fault (NDP) shows only here.
        t.address6
          ? checkSymptom(host, topology, client, { kind: 'ping-fails', target: t.name, family: 6 })
          : undefined,
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
}

export function statusLines(report: LabStatus[]): string[] {
  if (report.length === 0) return ['no lab is up (hopdump lab up bridged)'];
  const lines: string[] = [];
  for (const r of report) {
    lines.push(
      `lab '${r.instance}': ${r.topology}${r.fault ? `, fault ${r.fault}` : ''}${r.variant !== undefined ? `, variant ${r.variant}` : ''}, up since ${r.createdAt}`,
    );
    if (r.missingNamespaces.length) lines.push(`  missing namespaces: ${r.missingNamespaces.join(' ')}`);
    if (r.note) lines.push(`  ${r.note}`);
    for (const t of r.targets) {
      const v6 = t.ping6 !== undefined ? `, ping ${t.address6} ${t.ping6 ? 'ok' : 'FAILS'}` : '';
      lines.push(`  ${t.name} ${t.address}: ping ${t.ping ? 'ok' : 'FAILS'}, tcp ${t.tcp ? 'ok' : 'FAILS'}${v6}`);
    }
  }
  return lines;
}

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
