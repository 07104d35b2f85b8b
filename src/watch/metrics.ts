import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * watch's metrics (Prometheus text format, prom-client): `hopdump_` prefix, base units,
 * counters end in `_total`. No address is a label beyond a target's own name; every series of a
 * target goes when the target leaves the config.
 */
export class WatchMetrics {
  readonly registry = new Registry();
  readonly probeSuccess = new Gauge({
    name: 'hopdump_probe_success',
    help: '1 when the probe was answered by the target in the last interval, else 0',
    labelNames: ['target', 'probe'],
    registers: [this.registry],
  });
  readonly probeDuration = new Histogram({
    name: 'hopdump_probe_duration_seconds',
    help: 'Round trip of an answered ICMP echo, or time to complete a TCP handshake',
    labelNames: ['target', 'probe'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly targetUp = new Gauge({
    name: 'hopdump_target_up',
    help: '1 when every probe of the target was answered in the last interval, else 0',
    labelNames: ['target'],
    registers: [this.registry],
  });
  readonly targetCause = new Gauge({
    name: 'hopdump_target_cause',
    help: 'The top cause of a target that is down, as the last diagnose found it (1; gone when it recovers)',
    labelNames: ['target', 'cause', 'hop'],
    registers: [this.registry],
  });
  readonly hopDropped = new Counter({
    name: 'hopdump_hop_dropped_packets_total',
    help: "Packets a device on the target's path dropped (its rx/tx dropped counters), by direction",
    labelNames: ['target', 'hop', 'direction'],
    registers: [this.registry],
  });
  readonly kernelDrops = new Counter({
    name: 'hopdump_kernel_drops_total',
    help: 'Packets the kernel freed as dropped (skb:kfree_skb), by SKB_DROP_REASON',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly firewallDrops = new Counter({
    name: 'hopdump_firewall_rule_drops_total',
    help: "Packets matched by drop or reject rules on the target's path (the rules' counters)",
    labelNames: ['target', 'table', 'chain'],
    registers: [this.registry],
  });
  readonly promiscuous = new Gauge({
    name: 'hopdump_promiscuous',
    help: '1 when a device on a watched path is in promiscuous mode',
    labelNames: ['netns', 'device'],
    registers: [this.registry],
  });
  readonly diagnoseRuns = new Counter({
    name: 'hopdump_diagnose_runs_total',
    help: 'Diagnose runs started by watch, by result (ok, degraded, broken, failed, timeout)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly captureDropped = new Counter({
    name: 'hopdump_capture_dropped_packets_total',
    help: "Packets hopdump's own captures lost (dropped by the kernel at tcpdump) during diagnose runs",
    registers: [this.registry],
  });
  readonly watchedTargets = new Gauge({
    name: 'hopdump_watch_targets',
    help: 'Targets being watched',
    registers: [this.registry],
  });

  /** Every series that names the target (prom-client removes exact label sets only). */
  async removeTarget(target: string): Promise<void> {
    const metrics: Array<Gauge | Counter | Histogram> = [
      this.probeSuccess,
      this.probeDuration,
      this.targetUp,
      this.targetCause,
      this.hopDropped,
      this.firewallDrops,
    ];
    for (const m of metrics) {
      const seen = new Set<string>();
      for (const v of (await m.get()).values) {
        if (v.labels.target !== target) continue;
        const { le: _le, ...labels } = v.labels;
        const key = JSON.stringify(labels);
        if (seen.has(key)) continue;
        seen.add(key);
        m.remove(labels as Record<string, string>);
      }
    }
  }

  /** Sets the target's cause series to exactly this one (or none). */
  async setCause(target: string, cause: { id: string; hop: string } | undefined): Promise<void> {
    for (const v of (await this.targetCause.get()).values)
      if (v.labels.target === target) this.targetCause.remove(v.labels as Record<string, string>);
    if (cause) this.targetCause.set({ target, cause: cause.id, hop: cause.hop }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
