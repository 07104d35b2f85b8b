import { buildFilter } from '../capture/bpf.js';
import { withPromiscuous } from '../capture/experiment.js';
import { parseProbe, runProbe, type ProbeSpec } from '../capture/probe.js';
import { promiscLog } from '../collect/kernlog.js';
import { traceOvnPath } from '../capture/ovn-trace.js';
import { traceOvsPath } from '../capture/ovs-trace.js';
import { runSession, type PacketReader, type SessionResult as Session } from '../capture/session.js';
import { FIXTURE_FORMAT, type DiagnoseFixture } from '../checks/fixture.js';
import { runChecks } from '../checks/index.js';
import type { CheckContext } from '../checks/types.js';
import { servesFamily } from '../checks/util.js';
import { discover, sampleCounters } from '../collect/discover.js';
import { correlationNotices } from '../checks/notices.js';
import { correlate } from '../correlate/correlate.js';
import type { HopPacket } from '../model/packet.js';
import { environmentError, usageError } from '../errors.js';
import { missingProgramHint } from '../host/programs.js';
import type { Host } from '../host/host.js';
import { targetMacOf, type Topology } from '../model/topology.js';
import { findPath, type PathOptions } from '../path/find.js';
import { resolveByArp } from '../capture/arp-resolve.js';
import { candidateCaptureHops, chooseLead, remapSession } from './candidates.js';
import { undecided } from '../path/silent.js';
import type { Path } from '../model/path.js';
import type { Cause, ProbeReport, Report } from '../model/report.js';
import { assembleReport, passiveProbeReport } from '../verdict/assemble.js';
import { version } from '../version.js';

export interface DiagnoseOptions {
  host: Host;
  reader: PacketReader;
  /** Namespace that stands in for the host's root (the lab's hypervisor). */
  netns?: string;
  target: string;
  /** Raw probe specs: icmp, tcp:PORT[@ADDR], udp:PORT[@ADDR], arp. Empty = defaults. */
  probes: string[];
  /** "host" or "netns:NAME". */
  from: string;
  size?: number;
  count: number;
  durationSec?: number;
  passive: boolean;
  filter?: string;
  uplink?: string;
  promiscuous?: boolean;
  /**
   * Opt-in experiment (the only state change besides probes): re-run the
   * probes with the suspect device promiscuous, restored in every exit path.
   */
  promiscTest?: boolean;
  progress?: (line: string) => void;
  /**
   * The run's phases, in order, as they begin: discovering, capturing (every capture listening,
   * with how many hops), probing (or watching, passive), analysing. For front ends (serve's
   * progress view).
   */
  phase?: (phase: DiagnosePhase, detail: string) => void;
  /** Called once with the run's inputs and result as a fixture (checks/fixture.ts), for tests to replay. */
  record?: (fixture: DiagnoseFixture) => void;
}

export type DiagnosePhase = 'discovering' | 'capturing' | 'probing' | 'analysing';

export interface DiagnoseResult {
  report: Report;
  packets: HopPacket[];
  topology: Topology;
}

const WELL_KNOWN = [22, 80, 443];

/** discover → path → capture + probe → correlate → checks → report. */
export async function diagnose(o: DiagnoseOptions): Promise<DiagnoseResult> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  for (const program of ['tcpdump', 'setpriv']) {
    if (!o.host.hasProgram(program)) throw environmentError(`${program} not found`, missingProgramHint(program));
  }
  o.phase?.('discovering', o.netns ? `the datapath seen from ${o.netns}` : 'the host datapath');
  const topology = await discover({ host: o.host, ...(o.netns ? { netns: o.netns } : {}) });
  const discoverMs = Date.now() - t0;
  const located = await locateTarget(o, topology);
  const plan = await planProbes(o, topology, located.path);
  const { session, path, backend } = await captureWindow(o, topology, located, plan);

  const tAnalysis = Date.now();
  const correlation = correlate({
    hops: path.hops,
    observed: session.observed,
    failedMidway: session.failedMidway,
    notObservedReason: session.notObservedReason,
    packets: session.packets,
    targetAddresses: plan.targetAddresses,
    probeAddresses: plan.probeAddresses,
    nat: plan.probeAddresses.length > 0,
    sourceAddresses: plan.sourceAddresses,
    // Users' traffic does not start or stop with the captures.
    ...(o.passive ? { edgeNs: 300_000_000n } : {}),
    startNs: BigInt(session.windowStartedAt) * 1_000_000n,
  });
  const probeReports: ProbeReport[] = o.passive
    ? [
        passiveProbeReport(correlation, {
          address: plan.primary ?? o.target,
          command: `tcpdump -p on ${session.observed.filter(Boolean).length} hops, ${Math.round(session.windowMs / 1000)}s`,
          from: 'users',
          detail: `${session.packets.length} packets watched for ${Math.round(session.windowMs / 1000)}s`,
        }),
      ]
    : session.probes.map((p) => ({
        kind: p.spec.kind,
        address: p.spec.address,
        ...(p.spec.port !== undefined ? { port: p.spec.port } : {}),
        ...(p.spec.size !== undefined ? { size: p.spec.size } : {}),
        command: p.command,
        from: plan.fromLabel,
        sent: p.sent,
        answered: p.answered,
        outcome: p.outcome,
        detail: p.detail,
      }));
  o.phase?.('analysing', `${session.packets.length} packets from ${session.observed.filter(Boolean).length} hops`);
  const later = await readAfterWindow(o, topology, path, session, plan);
  const context: CheckContext = {
    ...(later.after ? { after: later.after } : {}),
    topology,
    path,
    correlation,
    probes: probeReports,
    targetAddresses: plan.targetAddresses,
    probesFromOutside: o.from !== 'host' || o.passive,
    passive: o.passive,
    ...(session.drops ? { drops: session.drops } : {}),
    ...(later.promiscLog ? { promiscLog: later.promiscLog } : {}),
    ...(later.ovsTraces.length ? { ovsTraces: later.ovsTraces } : {}),
    ...(later.ovn.traces.length ? { ovnTraces: later.ovn.traces } : {}),
    ...(later.ovn.nb ? { ovnNb: later.ovn.nb } : {}),
    sourceAddresses: o.passive
      ? [
          ...new Set(
            session.packets.filter((p) => p.dst && plan.targetAddresses.includes(p.dst) && p.src).map((p) => p.src!),
          ),
        ].slice(0, 8)
      : plan.sourceAddresses,
  };
  const { causes, notices } = await runChecks(context);
  const experimentNotices: string[] = [];
  if (o.promiscTest && plan.probes.length > 0) {
    experimentNotices.push(...(await promiscExperiment(o, topology, causes, plan.probes, plan.fromNetns)));
  }
  const wrongHost = wrongHostAnswered(topology, path, correlation);
  const report = assembleReport({
    mode: 'diagnose',
    version: version(),
    startedAt,
    target: {
      query: o.target,
      netns: path.target.netns,
      ifname: path.target.ifname,
      ...(plan.primary ? { address: plan.primary } : {}),
      ...(path.target.container ? { container: path.target.container.name } : {}),
    },
    path,
    probes: probeReports,
    correlation,
    passive: o.passive,
    // Answers from a MAC that is not the target's are not good answers.
    ...(wrongHost ? { atLeast: 'degraded' as const } : {}),
    hops: correlation.hopCounts.map((h, i) => {
      const drops = session.stats[i]?.droppedByKernel;
      return drops !== undefined ? { ...h, kernelDrops: drops } : h;
    }),
    causes,
    notices: [
      ...topology.warnings,
      ...located.notices,
      ...blindNotice(path, session),
      ...session.notices,
      ...correlationNotices(correlation, topology, path.hops, plan.targetAddresses),
      ...notices,
      ...experimentNotices,
    ],
    ovsTraces: later.ovsTraces,
    ovnTraces: later.ovn.traces,
    timing: {
      discoverMs,
      captureStartMs: session.captureStartMs,
      windowMs: session.windowMs,
      analysisMs: Date.now() - tAnalysis,
      totalMs: Date.now() - t0,
    },
  });
  o.record?.({
    format: FIXTURE_FORMAT,
    query: {
      target: o.target,
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.uplink ? { uplink: o.uplink } : {}),
      ...(backend ? { backend } : {}),
    },
    request: {
      probes: o.probes,
      from: o.from,
      count: o.count,
      ...(o.size !== undefined ? { size: o.size } : {}),
      passive: o.passive,
      ...(o.durationSec !== undefined ? { durationSec: o.durationSec } : {}),
      ...(o.promiscTest ? { promiscTest: true } : {}),
    },
    context,
    ...(wrongHost ? { atLeast: 'degraded' as const } : {}),
    result: {
      status: report.status,
      loss: report.loss,
      causes: report.causes.map((c) => ({ id: c.id, confidence: c.confidence, device: c.device })),
    },
  });
  return { report, packets: session.packets, topology };
}

interface Located {
  path: Path;
  /** Where the guest is silent and its backend unknown: the candidates, each a group of hops to capture on. */
  groups: ReturnType<typeof candidateCaptureHops>;
  notices: string[];
  /** The backend findPath was told to follow (a silent guest's, found by ARP). */
  backend?: NonNullable<PathOptions['backend']>;
}

/** The path to the target; for a silent guest whose backend is not known, one ARP/NS first (not when passive). */
async function locateTarget(o: DiagnoseOptions, topology: Topology): Promise<Located> {
  const uplink = o.uplink ? { uplink: o.uplink } : {};
  let path = findPath(topology, o.target, uplink);
  const notices: string[] = [];
  let backend: Located['backend'];
  if (!o.passive && undecided(path) && path.target.address) {
    const arp = await resolveByArp(o.host, topology, path, path.target.address).catch((err: unknown) => ({
      backend: undefined,
      notice: `ARP: ${err instanceof Error ? err.message : String(err)}`,
    }));
    notices.push(arp.notice);
    if (arp.backend) {
      backend = arp.backend;
      path = findPath(topology, o.target, { ...uplink, backend });
    }
  }
  return {
    path,
    groups: undecided(path) ? candidateCaptureHops(topology, path) : [],
    notices,
    ...(backend ? { backend } : {}),
  };
}

interface ProbePlan {
  /** The address asked for first, then the NIC's other addresses of the diagnosis's family. */
  targetAddresses: string[];
  primary: string | undefined;
  fromNetns: string | undefined;
  fromLabel: string;
  probes: ProbeSpec[];
  /** Addresses probed that are not the target's own (a published port): NAT is expected. */
  probeAddresses: string[];
  sourceAddresses: string[];
  filter: string;
}

/** What to probe, from where, and the capture filter that keeps those packets. */
async function planProbes(o: DiagnoseOptions, topology: Topology, path: Path): Promise<ProbePlan> {
  const targetNs = topology.namespaces.find((n) => n.id === path.target.netns);
  const targetIf = targetNs?.interfaces.find((i) => i.ifname === path.target.ifname);
  // The address asked for comes first (its family is the diagnosis's: probes,
  // routes, forwarding sysctl); then the NIC's IPv4 addresses, or, on an
  // IPv6-only NIC named by MAC or interface, its global IPv6 addresses.
  const globalAddrs = targetIf?.addresses.filter((a) => a.scope !== 'link' && a.scope !== 'host') ?? [];
  const v4Addrs = globalAddrs.filter((a) => a.family === 'inet').map((a) => a.local);
  const targetAddresses = [
    ...new Set([
      ...(path.target.address ? [path.target.address] : []),
      ...v4Addrs,
      ...(v4Addrs.length === 0 ? globalAddrs.filter((a) => a.family === 'inet6').map((a) => a.local) : []),
    ]),
  ];
  const primary = targetAddresses[0];

  let fromNetns: string | undefined;
  let fromLabel: string;
  if (o.from === 'host') {
    fromNetns = o.netns;
    fromLabel = o.netns ?? 'host';
  } else if (o.from.startsWith('netns:')) {
    fromNetns = o.from.slice('netns:'.length);
    await o.host.requireNetns(fromNetns);
    fromLabel = fromNetns;
  } else {
    throw usageError(`--from '${o.from}' is neither host nor netns:NAME`);
  }

  const probes: ProbeSpec[] = [];
  if (!o.passive) {
    if (!primary)
      throw usageError(
        `target ${o.target} has no IPv4 or global IPv6 address to probe`,
        'use --passive, or name an address',
      );
    // fe80::/10 is valid on one link only: a socket needs its zone (the sender's interface),
    // which hopdump cannot know for a sender on another link (nc without one just times out).
    if (/^fe[89ab][0-9a-f]:/i.test(primary)) {
      throw usageError(
        `target ${primary} is an IPv6 link-local address: probes cannot reach it without its link`,
        'name its global address, or use --passive',
      );
    }
    const raw = o.probes.length > 0 ? o.probes : defaultProbes(topology, path, fromNetns === o.netns, primary);
    for (const text of raw) {
      const spec = parseProbe(text, primary, o.count, text === 'icmp' ? o.size : undefined);
      if (!spec) throw usageError(`--probe '${text}' is not icmp, tcp:PORT[@ADDR], udp:PORT[@ADDR] or arp`);
      // arping speaks ARP only; IPv6's neighbour solicitations show in the capture of any probe.
      if (spec.kind === 'arp' && spec.address.includes(':'))
        throw usageError(
          `--probe arp is IPv4 only; ${spec.address} is IPv6`,
          'use --probe icmp: its neighbour solicitations are captured',
        );
      probes.push(spec);
    }
  }
  const probeAddresses = [...new Set(probes.map((p) => p.address).filter((a) => !targetAddresses.includes(a)))];
  const sourceAddresses = probes.length ? await sourceAddressFor(o.host, fromNetns, probes[0]!.address) : [];
  const filter = buildFilter([...targetAddresses, ...probeAddresses], o.filter);
  return { targetAddresses, primary, fromNetns, fromLabel, probes, probeAddresses, sourceAddresses, filter };
}

/** Captures on every hop (and every candidate's) while probing; then follows the candidate the window points at. */
async function captureWindow(
  o: DiagnoseOptions,
  topology: Topology,
  located: Located,
  plan: ProbePlan,
): Promise<{ session: Session; path: Path; backend: Located['backend'] }> {
  const capturedHops = [...located.path.hops, ...located.groups.flatMap((g) => g.hops)];
  let path = located.path;
  let backend = located.backend;
  let session = await runSession({
    host: o.host,
    hops: capturedHops,
    filter: plan.filter,
    reader: o.reader,
    probes: plan.probes,
    fromNetns: plan.fromNetns,
    ...(o.netns ? { hypervisor: o.netns } : {}),
    ...(o.passive ? { durationMs: (o.durationSec ?? 10) * 1000 } : {}),
    promiscuous: o.promiscuous === true,
    ...(o.progress ? { progress: o.progress } : {}),
    onWindowStart: () => {
      o.phase?.('capturing', `capturing on ${capturedHops.filter((h) => h.seesTransit).length} hops`);
      o.phase?.(
        'probing',
        o.passive
          ? `watching for ${o.durationSec ?? 10} s`
          : plan.probes.map((p) => `${p.kind}${p.port ? `:${p.port}` : ''}`).join(', '),
      );
    },
  });
  if (located.groups.length > 0 && path.target.address) {
    // Follow the candidate the window points at; the others' tallies are notices.
    const lead = chooseLead(session, path.hops.length, located.groups, path.target.address);
    located.notices.push(...lead.notices);
    backend = lead.backend;
    path = findPath(topology, o.target, { ...(o.uplink ? { uplink: o.uplink } : {}), backend });
    session = remapSession(session, capturedHops, path.hops);
  }
  return { session, path, backend };
}

/**
 * Every capture that was meant to run failed: whatever the verdict says rests on the probes alone
 * (an operator reading "OK" must know that no hop was seen; e.g. tcpdump without CAP_NET_RAW).
 */
function blindNotice(path: Path, session: Session): string[] {
  const meant = path.hops.filter((h) => h.seesTransit);
  if (meant.length === 0 || session.observed.some(Boolean)) return [];
  const why = session.notObservedReason.find((r) => r !== undefined);
  return [`no hop could be captured${why ? ` (${why})` : ''}: this verdict rests on the probes alone`];
}

/** The host read again after the window: counters to compare, the kernel log, OpenFlow and OVN traces. */
async function readAfterWindow(o: DiagnoseOptions, topology: Topology, path: Path, session: Session, plan: ProbePlan) {
  const targetMac = targetMacOf(topology, path.target.netns, path.target.ifname);
  const [after, promiscLogRead, ovsTraces] = await Promise.all([
    sampleCounters(o.host, topology).catch(() => undefined),
    promiscLog(o.host),
    traceOvsPath({
      host: o.host,
      topology,
      path,
      packets: session.packets,
      targetAddresses: plan.targetAddresses,
      probes: o.passive
        ? []
        : plan.probes.map((p) => ({ kind: p.kind, ...(p.port !== undefined ? { port: p.port } : {}) })),
      ...(targetMac ? { targetMac } : {}),
    }).catch((err: unknown) => {
      session.notices.push(`ofproto/trace: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }),
  ]);
  const ovn = await traceOvnPath(o.host, topology, ovsTraces, o.netns).catch((err: unknown) => {
    session.notices.push(`ovn-trace: ${err instanceof Error ? err.message : String(err)}`);
    return { traces: [], nb: undefined };
  });
  return { after, promiscLog: promiscLogRead, ovsTraces, ovn };
}

/**
 * icmp and the target's listening ports; for CONTAINER:PORT the published
 * port on the host address, as a client outside would reach it (and icmp to
 * the container only from the Docker host itself: from outside, containers'
 * addresses are normally not routed).
 */
function defaultProbes(topology: Topology, path: Path, fromDockerHost: boolean, address: string): string[] {
  const pub = path.target.published;
  if (pub && pub.address)
    return [...(fromDockerHost ? ['icmp'] : []), `${pub.proto === 'udp' ? 'udp' : 'tcp'}:${pub.port}@${pub.address}`];
  const ns = topology.namespaces.find((n) => n.id === path.target.netns);
  const ports = ns?.isRoot
    ? []
    : [
        ...new Set(
          (ns?.listeners ?? [])
            .filter((l) => !l.address.startsWith('127.') && l.address !== '::1' && servesFamily(l, address))
            .map((l) => l.port),
        ),
      ].sort((a, b) => a - b);
  const chosen = ports.length > 0 ? ports.slice(0, 2) : ns?.collected ? [] : WELL_KNOWN.slice(0, 1);
  return ['icmp', ...chosen.map((p) => `tcp:${p}`)];
}

/** The address the sender uses towards `address` (`ip route get`'s prefsrc). */
async function sourceAddressFor(host: Host, netns: string | undefined, address: string): Promise<string[]> {
  try {
    const r = await host.run(['ip', '-j', 'route', 'get', address], { ...(netns ? { netns } : {}), okCodes: 'any' });
    const routes = JSON.parse(r.stdout || '[]') as Array<{ prefsrc?: string }>;
    return routes.map((x) => x.prefsrc).filter((x): x is string => Boolean(x));
  } catch {
    return [];
  }
}

/**
 * --promisc-test: the suspect is the device a promisc-dependent cause names,
 * else the device where packets stop. Probes are sent again with it
 * promiscuous; more answers prove the dependency, the same refute it.
 */
async function promiscExperiment(
  o: DiagnoseOptions,
  topology: Topology,
  causes: Cause[],
  probes: ProbeSpec[],
  fromNetns: string | undefined,
): Promise<string[]> {
  const suspectCause = causes.find((c) => c.id === 'promisc-dependent' && c.device);
  const device = suspectCause?.device ?? null;
  if (!device) return ['--promisc-test: no suspect device (no promisc-dependent evidence); nothing changed'];
  const iface = topology.namespaces
    .find((n) => n.id === device.netns)
    ?.interfaces.find((i) => i.ifname === device.ifname);
  if (!iface || iface.promisc || (iface.promiscuity ?? 0) > 0) {
    return [`--promisc-test: ${device.netns}/${device.ifname} is already promiscuous; nothing to compare`];
  }
  const netns = device.netns === 'host' ? undefined : device.netns;
  const withPromisc = await withPromiscuous(o.host, netns, device.ifname, () =>
    Promise.all(probes.map((p) => runProbe(o.host, p, fromNetns))),
  );
  const without = await Promise.all(probes.map((p) => runProbe(o.host, p, fromNetns)));
  const a = withPromisc.reduce((s, r) => s + r.answered, 0);
  const b = without.reduce((s, r) => s + r.answered, 0);
  const sent = withPromisc.reduce((s, r) => s + r.sent, 0);
  const line = `--promisc-test: with ${device.netns}/${device.ifname} promiscuous ${a}/${sent} probes answered, without ${b}/${sent}`;
  if (suspectCause) {
    if (a > b) {
      suspectCause.confidence = 0.99;
      suspectCause.evidence.push(
        `${line}: reachability depends on promiscuous mode (proved; the device is back to non-promiscuous)`,
      );
    } else {
      suspectCause.confidence = Math.min(suspectCause.confidence, 0.2);
      suspectCause.evidence.push(`${line}: promiscuous mode makes no difference (refuted)`);
    }
    causes.sort((x, y) => y.confidence - x.confidence);
  }
  return [line];
}

/** Replies from the target's address with a MAC that is not the target's: answered by the wrong host. */
function wrongHostAnswered(
  topology: Topology,
  path: ReturnType<typeof findPath>,
  correlation: ReturnType<typeof correlate>,
): boolean {
  const own = targetMacOf(topology, path.target.netns, path.target.ifname);
  if (!own) return false;
  return [...correlation.target.replyMacs.keys()].some((mac) => mac !== own);
}
