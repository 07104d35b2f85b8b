import { isIP } from 'node:net';
import { discover } from '../collect/discover.js';
import { countersOf, ipLinkCounters } from '../collect/iproute.js';
import { firewall } from '../collect/netfilter.js';
import { startDropTracer, type DropTracer } from '../capture/drops.js';
import { dropRuleCounters } from '../model/firewall-rules.js';
import type { PacketReader } from '../capture/session.js';
import { diagnose } from '../diagnose/diagnose.js';
import type { Host } from '../host/host.js';
import type { Hop, Path } from '../model/path.js';
import type { Topology } from '../model/topology.js';
import type { Report } from '../model/report.js';
import { findPath } from '../path/find.js';
import type { RunsStore } from '../report/runs.js';
import type { WatchConfig, WatchTargetConfig } from './config.js';
import { discoveredTargets, mergeTargets } from './discovered.js';
import type { WatchMetrics } from './metrics.js';
import { IcmpProber, PROBER_LIFETIME_MS, TcpProber, type ProbeSample } from './prober.js';

/**
 * The watch loop: every interval, the cheap probes of every target (prober.ts), the path
 * devices' drop counters and promiscuity; a target is up when every one of its probes was
 * answered in the interval. When a target turns from up to down (or starts down), one full
 * diagnose runs on it: at most one at a time on the host, at most one per target per
 * `diagnose.minInterval`, bounded by `diagnose.timeout`; its report goes to the runs store and
 * its top cause to hopdump_target_cause until the target is up again.
 */

export interface WatchOptions {
  host: Host;
  config: WatchConfig;
  metrics: WatchMetrics;
  store: RunsStore;
  reader: PacketReader;
  /** One line per event (target down/up, diagnose started/finished); default none. */
  log?: (line: string) => void;
}

interface Probe {
  /** As configured: icmp, tcp:PORT. */
  label: string;
  kind: 'icmp' | 'tcp';
  port?: number;
}

interface Watched {
  name: string;
  config: WatchTargetConfig;
  probes: Probe[];
  /** The address probes go to (the target's, from its path; or the target itself if an address). */
  address: string | undefined;
  /** Namespace probes come from (undefined: the host's root). */
  source: string | undefined;
  path: Path | undefined;
  up: boolean | undefined;
  lastDiagnoseAt: number;
  /** Last values of the hop devices' drop counters, to turn them into increments. */
  counters: Map<string, number>;
  /** Per probe, the time of the last reply put in the histogram. */
  observed: Map<string, number>;
  /** The target NIC's MAC, when the path knows it: a reply from another MAC is not the target's. */
  mac: string | undefined;
  /** Last totals of the drop rules on the path, per `TABLE\tCHAIN`. */
  ruleCounters: Map<string, number>;
  resolveError?: string;
}

export class Watcher {
  private targets: Watched[] = [];
  private readonly icmp = new Map<string, IcmpProber>();
  private readonly tcp = new Map<string, TcpProber>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private diagnosing: Promise<void> | undefined;
  private tickRunning: Promise<void> | undefined;
  private tracer: DropTracer | undefined;
  private tracerEnded = false;
  /** Started again after it ends only if it ever worked (no tracefs: once is enough). */
  private tracerWorked = false;
  intervalMs: number;
  private ticks = 0;
  private config: WatchConfig;
  /** While the config is being reloaded: no interval starts. */
  private paused = false;
  private rediscovery: NodeJS.Timeout | undefined;

  constructor(private readonly o: WatchOptions) {
    this.config = o.config;
    this.intervalMs = o.config.interval;
  }

  /** Resolves every target's path and starts the probers; the first interval follows. */
  async start(): Promise<void> {
    const view = this.views();
    for (const t of await this.targetsOf(this.config, view)) this.targets.push(await this.resolve(t, view));
    this.o.metrics.watchedTargets.set(this.targets.length);
    this.startProbers();
    this.startTracer();
    this.schedule();
    // discover: true — guests and containers come and go: look again every few minutes.
    this.rediscovery = setInterval(() => {
      if (!this.config.discover || this.paused) return;
      void this.reload(this.config).then(
        (r) => {
          if (r.added.length || r.removed.length)
            this.o.log?.(
              `watch: discovery: added ${r.added.join(', ') || 'none'}; removed ${r.removed.join(', ') || 'none'}`,
            );
        },
        (err: unknown) => this.o.log?.(`watch: discovery: ${err instanceof Error ? err.message : String(err)}`),
      );
    }, REDISCOVER_MS);
    this.rediscovery.unref();
  }

  /** The config's targets, and with discover: true every guest and container found (discovered.ts). */
  private async targetsOf(
    config: WatchConfig,
    view: (netns: string | undefined) => Promise<Topology>,
  ): Promise<WatchTargetConfig[]> {
    if (!config.discover) return config.targets;
    try {
      return mergeTargets(config.targets, discoveredTargets(await view(config.netns), config.netns));
    } catch (err) {
      this.o.log?.(`watch: discovery failed: ${err instanceof Error ? err.message : String(err)}`);
      return config.targets;
    }
  }

  /** One discovery per view (--netns), shared by the targets seen from it. */
  private views(): (netns: string | undefined) => Promise<Topology> {
    const views = new Map<string, Promise<Topology>>();
    return (netns) => {
      const key = netns ?? '';
      if (!views.has(key)) views.set(key, discover({ host: this.o.host, ...(netns ? { netns } : {}) }));
      return views.get(key)!;
    };
  }

  /**
   * A new config (SIGHUP): targets that left it, or changed, lose every series; new and changed
   * ones are resolved; the others keep their state. The probers start again on the new set.
   */
  async reload(config: WatchConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    this.paused = true;
    clearTimeout(this.timer);
    await this.tickRunning;
    try {
      const view = this.views();
      const next = new Map((await this.targetsOf(config, view)).map((t) => [t.name ?? t.target, t]));
      const keep = this.targets.filter((t) => JSON.stringify(next.get(t.name)) === JSON.stringify(t.config));
      const kept = new Set(keep.map((t) => t.name));
      const gone = this.targets.filter((t) => !kept.has(t.name)).map((t) => t.name);
      for (const name of gone) await this.o.metrics.removeTarget(name);
      const targets: Watched[] = [];
      const added: string[] = [];
      for (const [name, t] of next) {
        const old = keep.find((k) => k.name === name);
        if (old) targets.push(old);
        else {
          targets.push(await this.resolve(t, view));
          added.push(name);
        }
      }
      this.targets = targets;
      this.config = config;
      this.intervalMs = config.interval;
      this.o.metrics.watchedTargets.set(targets.length);
      await Promise.all([...this.icmp.values(), ...this.tcp.values()].map((p) => p.stop()));
      this.icmp.clear();
      this.tcp.clear();
      this.startProbers();
      return {
        added: added.filter((n) => !gone.includes(n)),
        removed: gone.filter((n) => !next.has(n)),
        changed: gone.filter((n) => next.has(n)),
      };
    } finally {
      this.paused = false;
      this.schedule();
    }
  }

  /** Kernel drop reasons, host-wide, counted as they come (a private tracefs instance). */
  private startTracer(): void {
    this.tracerEnded = false;
    const tracer = startDropTracer(this.o.host, [], PROBER_LIFETIME_MS, (reason) =>
      this.o.metrics.kernelDrops.inc({ reason }),
    );
    this.tracer = tracer;
    void tracer.ready.then((notice) => {
      if (notice) this.o.log?.(`watch: ${notice}`);
      else this.tracerWorked = true;
    });
    void tracer.exited.then(() => (this.tracerEnded = true));
  }

  private schedule(): void {
    if (this.stopped || this.paused) return;
    this.timer = setTimeout(() => {
      this.tickRunning = this.tick()
        .catch((err: unknown) => this.o.log?.(`watch: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async resolve(
    t: WatchTargetConfig,
    view: (netns: string | undefined) => Promise<Topology>,
  ): Promise<Watched> {
    const probes: Probe[] = (t.probe ?? ['icmp']).map((p) =>
      p === 'icmp' ? { label: p, kind: 'icmp' } : { label: p, kind: 'tcp', port: Number(p.slice(4)) },
    );
    const from = t.from ?? 'host';
    const source = from === 'host' ? t.netns : from.slice('netns:'.length);
    const w: Watched = {
      name: t.name ?? t.target,
      config: t,
      probes,
      address: isIP(t.target) ? t.target : undefined,
      source,
      path: undefined,
      up: undefined,
      lastDiagnoseAt: 0,
      counters: new Map(),
      observed: new Map(),
      ruleCounters: new Map(),
      mac: undefined,
    };
    try {
      w.path = findPath(await view(t.netns), t.target);
      w.address = w.path.target.address ?? w.address;
      w.mac = w.path.hops.find((h) => h.isTarget)?.address?.toLowerCase();
    } catch (err) {
      w.resolveError = err instanceof Error ? err.message : String(err);
      this.o.log?.(`watch: ${w.name}: ${w.resolveError}`);
    }
    return w;
  }

  private startProbers(): void {
    const bySource = new Map<string, Set<string>>();
    for (const t of this.targets) {
      if (!t.address) continue;
      const key = t.source ?? '';
      if (t.probes.some((p) => p.kind === 'icmp')) {
        if (!bySource.has(key)) bySource.set(key, new Set());
        bySource.get(key)!.add(t.address);
      }
      if (t.probes.some((p) => p.kind === 'tcp') && !this.tcp.has(key)) {
        const p = new TcpProber(this.o.host, t.source);
        p.start();
        this.tcp.set(key, p);
      }
    }
    for (const [key, addresses] of bySource) {
      const p = new IcmpProber(this.o.host, key || undefined, [...addresses].sort(), this.intervalMs);
      p.start();
      this.icmp.set(key, p);
    }
  }

  /** A prober that ended (killed, crashed, at its bound on life) is started again. */
  private restartEnded(): void {
    if (this.tracerEnded && this.tracerWorked && !this.stopped) this.startTracer();
    for (const [key, p] of this.icmp)
      if (p.ended) {
        this.o.log?.(
          `watch: fping${p.netns ? ` in ${p.netns}` : ''} ended (${p.failure ?? 'no message'}); starting it again`,
        );
        const again = new IcmpProber(this.o.host, p.netns, p.addresses, this.intervalMs);
        again.start();
        this.icmp.set(key, again);
      }
    for (const [key, p] of this.tcp)
      if (p.ended) {
        const again = new TcpProber(this.o.host, p.netns);
        again.start();
        this.tcp.set(key, again);
      }
  }

  /** One interval: probes, states, counters; a diagnose for targets that went down. */
  async tick(now = Date.now()): Promise<void> {
    this.ticks++;
    this.restartEnded();
    const m = this.o.metrics;
    const since = now - this.intervalMs * 1.5;
    const neighbours = await this.readNeighbours();
    await Promise.all(
      this.targets.map(async (t) => {
        let samples = await Promise.all(t.probes.map((p) => this.sample(t, p, since)));
        // Answered, but by whom: on the source's own segment its neighbour entry names the MAC
        // that answers for the address (an address conflict: another host answers).
        const seen = t.address ? neighbours.get(t.source ?? '')?.get(t.address) : undefined;
        if (t.mac && seen && seen !== t.mac)
          samples = samples.map((s) =>
            s.ok ? { ok: false, detail: `answered by ${seen}, not the target's ${t.mac}` } : s,
          );
        let up = true;
        t.probes.forEach((p, i) => {
          const s = samples[i]!;
          m.probeSuccess.set({ target: t.name, probe: p.label }, s.ok ? 1 : 0);
          if (s.ok && s.seconds !== undefined && (s.at === undefined || t.observed.get(p.label) !== s.at)) {
            m.probeDuration.observe({ target: t.name, probe: p.label }, s.seconds);
            if (s.at !== undefined) t.observed.set(p.label, s.at);
          }
          if (!s.ok) up = false;
        });
        m.targetUp.set({ target: t.name }, up ? 1 : 0);
        const was = t.up;
        t.up = up;
        if (up && was === false) {
          this.o.log?.(`watch: ${t.name} is up again`);
          await m.setCause(t.name, undefined);
        }
        if (!up && was !== false) {
          const failed = t.probes.flatMap((p, i) =>
            samples[i]!.ok ? [] : [`${p.label}: ${samples[i]!.detail ?? 'failed'}`],
          );
          this.o.log?.(`watch: ${t.name} is down (${failed.join('; ')})`);
          this.maybeDiagnose(t);
        }
      }),
    );
    await Promise.all([this.readCounters(), this.readFirewalls()]);
  }

  /** The drop rules' counters on each target's path, as increments per table and chain. */
  private async readFirewalls(): Promise<void> {
    const namespaces = new Set<string>();
    for (const t of this.targets) for (const h of t.path?.hops ?? []) if (this.readsNow(t, h)) namespaces.add(h.netns);
    const fws = new Map(
      await Promise.all(
        [...namespaces].map(
          async (ns) =>
            [
              ns,
              await firewall({ host: this.o.host, netns: ns === 'host' ? undefined : ns }).catch(() => undefined),
            ] as const,
        ),
      ),
    );
    for (const t of this.targets) {
      // Per namespace, table and chain: a namespace not read this interval keeps its last totals.
      const deltas = new Map<string, number>();
      for (const ns of new Set(t.path?.hops.map((h) => h.netns) ?? [])) {
        const fw = fws.get(ns);
        if (!fw || !t.path!.hops.some((h) => h.netns === ns && this.readsNow(t, h))) continue;
        const devices = new Set(t.path!.hops.filter((h) => h.netns === ns).map((h) => h.ifname));
        for (const [key, n] of dropRuleCounters(fw, devices)) {
          const before = t.ruleCounters.get(`${ns}\t${key}`);
          t.ruleCounters.set(`${ns}\t${key}`, n);
          // The first reading makes the series (at 0); a rule deleted or zeroed counts again from there.
          const delta = before === undefined ? 0 : Math.max(0, n - before);
          deltas.set(key, (deltas.get(key) ?? 0) + delta);
        }
      }
      for (const [key, delta] of deltas) {
        const [table, chain] = key.split('\t') as [string, string];
        this.o.metrics.firewallDrops.inc({ target: t.name, table, chain }, delta);
      }
    }
  }

  private async sample(t: Watched, p: Probe, since: number): Promise<ProbeSample> {
    if (!t.address) return { ok: false, detail: t.resolveError ?? 'no address to probe' };
    const key = t.source ?? '';
    if (p.kind === 'icmp') return this.icmp.get(key)?.sample(t.address, since) ?? { ok: false, detail: 'no prober' };
    const prober = this.tcp.get(key);
    if (!prober) return { ok: false, detail: 'no prober' };
    return prober.probe(t.address, p.port!, Math.min(3000, Math.max(200, this.intervalMs * 0.5)));
  }

  /**
   * Per source namespace, the MAC its neighbour table holds for each address (reachable, stale,
   * delay or probe entries): one `ip -j neigh show` per source namespace per interval.
   */
  private async readNeighbours(): Promise<Map<string, Map<string, string>>> {
    const sources = new Set(this.targets.filter((t) => t.mac && t.address).map((t) => t.source ?? ''));
    const out = new Map<string, Map<string, string>>();
    await Promise.all(
      [...sources].map(async (key) => {
        const r = await this.o.host
          .run(['ip', '-j', 'neigh', 'show'], { ...(key ? { netns: key } : {}), okCodes: 'any' })
          .catch(() => undefined);
        if (!r || r.code !== 0) return;
        try {
          const entries = JSON.parse(r.stdout) as Array<{ dst?: string; lladdr?: string; state?: string[] }>;
          const table = new Map<string, string>();
          for (const e of entries)
            if (e.dst && e.lladdr && !(e.state ?? []).some((st) => st === 'FAILED' || st === 'INCOMPLETE'))
              table.set(e.dst, e.lladdr.toLowerCase());
          out.set(key, table);
        } catch {
          /* not JSON: no check this interval */
        }
      }),
    );
    return out;
  }

  /** Starts a diagnose of the target unless one ran recently or another is running. */
  private maybeDiagnose(t: Watched): void {
    const d = this.config.diagnose;
    if (!d.enabled || this.diagnosing || this.stopped) return;
    const now = Date.now();
    if (t.lastDiagnoseAt && now - t.lastDiagnoseAt < d.minInterval) return;
    t.lastDiagnoseAt = now;
    this.diagnosing = this.runDiagnose(t).finally(() => (this.diagnosing = undefined));
  }

  private async runDiagnose(t: Watched): Promise<void> {
    const m = this.o.metrics;
    const store = this.o.store;
    const run = store.create(t.config.target, 'watch');
    this.o.log?.(`watch: diagnosing ${t.name} (run ${run.id})`);
    const work = diagnose({
      host: this.o.host,
      reader: this.o.reader,
      target: t.config.target,
      ...(t.config.netns ? { netns: t.config.netns } : {}),
      probes: t.probes.map((p) => p.label),
      from: t.config.from ?? 'host',
      count: 3,
      passive: false,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (res) => (timer = setTimeout(() => res('timeout'), this.config.diagnose.timeout)),
    );
    try {
      const r = await Promise.race([work, timeout]);
      if (r === 'timeout') {
        m.diagnoseRuns.inc({ result: 'timeout' });
        store.finish(run.id, { error: `no result within ${this.config.diagnose.timeout / 1000} s` });
        // It goes on in the background; the next one waits for it.
        await work.catch(() => undefined);
        return;
      }
      store.keep(run.id, r.report, r.packets);
      m.diagnoseRuns.inc({ result: r.report.status });
      const lost = r.report.hops.reduce((s, h) => s + (h.kernelDrops ?? 0), 0);
      if (lost > 0) m.captureDropped.inc(lost);
      await this.applyCause(t, r.report);
      this.o.log?.(
        `watch: ${t.name}: ${r.report.status}${r.report.causes[0] ? `, ${r.report.causes[0].id}` : ''} (run ${run.id})`,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      m.diagnoseRuns.inc({ result: 'failed' });
      store.finish(run.id, { error: message });
      this.o.log?.(`watch: diagnose of ${t.name} failed: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async applyCause(t: Watched, report: Report): Promise<void> {
    // Only while the target is still down: a recovery in the meantime wins.
    if (t.up !== false) return;
    const top = report.causes[0];
    await this.o.metrics.setCause(
      t.name,
      top ? { id: top.id, hop: top.device ? `${top.device.netns}/${top.device.ifname}` : '' } : undefined,
    );
  }

  /**
   * Whether a hop's namespace is read this interval: the host side of every path (uplink,
   * bridges, backends) every interval; the target's own namespace (a container's, one per
   * target) every SLOW_EVERY intervals, so that 200 containers do not mean 200 programs run
   * every interval (docs/watch.md).
   */
  private readsNow(t: Watched, hop: Hop): boolean {
    if (hop.netns.startsWith('guest:')) return false;
    const p = t.path;
    const own =
      p !== undefined && hop.netns === p.target.netns && p.hops.every((h) => h.netns !== hop.netns || h.isTarget);
    return !own || this.ticks % SLOW_EVERY === 1;
  }

  /** The path devices' rx/tx dropped counters (as increments) and their promiscuity. */
  private async readCounters(): Promise<void> {
    const byNs = new Map<string, Array<{ t: Watched; hop: Hop; index: number }>>();
    for (const t of this.targets)
      t.path?.hops.forEach((hop, index) => {
        if (!this.readsNow(t, hop)) return;
        if (!byNs.has(hop.netns)) byNs.set(hop.netns, []);
        byNs.get(hop.netns)!.push({ t, hop, index });
      });
    await Promise.all(
      [...byNs].map(async ([netns, hops]) => {
        const links = await ipLinkCounters({ host: this.o.host, netns: netns === 'host' ? undefined : netns }).catch(
          () => undefined,
        );
        if (!links) return;
        const byName = new Map(links.map((l) => [l.ifname, l]));
        for (const { t, hop, index } of hops) {
          const l = byName.get(hop.ifname);
          if (!l) continue;
          // As the promisc-dependent check sees it: a bridge port is promiscuous for the bridge.
          const bridgePort = l.linkinfo?.info_slave_kind === 'bridge';
          this.o.metrics.promiscuous.set(
            { netns, device: hop.ifname },
            (l.promiscuity ?? 0) > 0 && !bridgePort ? 1 : 0,
          );
          const c = countersOf(l);
          const rx = c?.rx_dropped ?? 0;
          const tx = c?.tx_dropped ?? 0;
          // Toward the target a device receives it (the first hop, a veth peer, the target) or
          // sends it on (a bridge port, a route out): docs/watch.md.
          const receives = index === 0 || hop.isTarget || ['start', 'veth', 'patch', 'macvlan'].includes(hop.via);
          const dev = `${netns}/${hop.ifname}`;
          this.count(t, dev, 'to-target', receives ? rx : tx);
          this.count(t, dev, 'from-target', receives ? tx : rx);
        }
      }),
    );
  }

  private count(t: Watched, hop: string, direction: string, value: number): void {
    const key = `${hop} ${direction}`;
    const before = t.counters.get(key);
    t.counters.set(key, value);
    if (before === undefined) {
      // The first reading: the series exists at 0 (increments come from the next).
      this.o.metrics.hopDropped.inc({ target: t.name, hop, direction }, 0);
      return;
    }
    // A device recreated starts again from 0: its whole count is new.
    const delta = value >= before ? value - before : value;
    if (delta > 0) this.o.metrics.hopDropped.inc({ target: t.name, hop, direction }, delta);
  }

  /** Stops the loop and every prober; waits for a running diagnose. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rediscovery);
    clearTimeout(this.timer);
    await this.tickRunning;
    await Promise.all([...this.icmp.values(), ...this.tcp.values()].map((p) => p.stop()));
    await this.tracer?.stop();
    await this.diagnosing;
  }

  /** For /runs and tests: every target's name and state. */
  states(): Array<{ name: string; up: boolean | undefined; address: string | undefined }> {
    return this.targets.map((t) => ({ name: t.name, up: t.up, address: t.address }));
  }
}

/** With discover: true, how often discovery runs again. */
const REDISCOVER_MS = 5 * 60_000;

/** The target's own namespace is read every this many intervals (5 minutes at 10 s). */
const SLOW_EVERY = 30;
