import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { contribFile as contrib, dashboard, dashboardQueries } from '../helpers/dashboard.js';
import { WatchMetrics } from '../../src/watch/metrics.js';
import { parseWatchConfig } from '../../src/watch/config.js';

/**
 * contrib/: the alert rules pass `promtool check rules` and their unit test (`promtool test
 * rules`); the Grafana dashboard has the fields Grafana's dashboard schema gives them and
 * queries only metrics watch exports. (test/watch/prometheus.test.ts runs every dashboard query
 * against a live Prometheus.)
 */

test('alert rules: promtool check rules and promtool test rules pass', () => {
  const check = execFileSync('promtool', ['check', 'rules', contrib('prometheus/alerts.yml')], { encoding: 'utf8' });
  assert.match(check, /SUCCESS: 4 rules found/);
  const unit = execFileSync('promtool', ['test', 'rules', contrib('prometheus/alerts.test.yml')], { encoding: 'utf8' });
  assert.match(unit, /SUCCESS/);
});

test('the Grafana dashboard: the schema fields it uses, panels inside the grid, only watch’s metrics', async () => {
  const d = dashboard();
  assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, 'panel ids are unique');
  for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits in 24 columns`);
  const known = new Set(
    (await new WatchMetrics().registry.getMetricsAsJSON()).flatMap((m) =>
      String(m.type) === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
    ),
  );
  const used = new Set(dashboardQueries().flatMap((q) => q.match(/hopdump_\w+/g) ?? []));
  for (const name of used) assert.ok(known.has(name), `${name} is a metric watch exports`);
  // Every family of the issue is on the dashboard: reachability, RTT, drops by hop and reason, cause.
  for (const name of [
    'hopdump_target_up',
    'hopdump_probe_duration_seconds_bucket',
    'hopdump_hop_dropped_packets_total',
    'hopdump_kernel_drops_total',
    'hopdump_target_cause',
  ])
    assert.ok(used.has(name), `the dashboard shows ${name}`);
});

test('the example watch config (shipped in the .deb) is a valid config, the one the unit reads', () => {
  const config = parseWatchConfig(readFileSync(contrib('watch/watch.yaml'), 'utf8'), 'contrib/watch/watch.yaml');
  assert.ok(config.targets.length > 0);
  const unit = readFileSync(contrib('systemd/hopdump-watch.service'), 'utf8');
  // The .deb installs the executable as /usr/bin/hopdump (scripts/build-deb.sh checks this line too).
  assert.match(unit, /^ExecStart=\/usr\/bin\/hopdump watch --config \/etc\/hopdump\/watch\.yaml$/m);
});
