import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readHopPackets } from '../correlate/packets.js';
import { environmentError, fileError, usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { missingProgramHint } from '../host/programs.js';
import { RunsStore, runsRoot } from '../report/runs.js';
import { parseWatchConfig, type WatchConfig } from '../watch/config.js';
import { parseListen, startHttp, WATCH_DEFAULT_LISTEN } from '../watch/http.js';
import { WatchMetrics } from '../watch/metrics.js';
import { Watcher } from '../watch/watcher.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

export const watchCommand: Command = {
  name: 'watch',
  summary: summaryOf('watch'),
  usage: `usage: hopdump watch --config FILE [--listen ADDR:PORT] [--token-file FILE] [--runs DIR]

Probes every target of the config continuously (ICMP through one fping per
source namespace, TCP connects; no capture), exports Prometheus metrics on
/metrics, and when a target turns from up to down runs one full diagnose on it:
its report goes to the runs store (/runs) and its top cause to
hopdump_target_cause. Runs until stopped (SIGTERM, SIGINT); SIGHUP reloads the
config (targets that left it lose their series; a bad config is logged and the
old one kept).

  --config FILE       YAML: interval, targets (target, netns, from, probe, name),
                      diagnose (enabled, minInterval, timeout), runs, listen,
                      tokenFile (docs/watch.md)
  --listen ADDR:PORT  default ${WATCH_DEFAULT_LISTEN}; on any other address than
                      loopback every request needs the token
  --token-file FILE   the token (else a random one, printed at start)
  --runs DIR          the runs store's root (default $HOPDUMP_RUNS, else
                      /var/lib/hopdump/runs)

Endpoints: GET /metrics, /runs, /runs/ID/report.json, /runs/ID/report.txt,
/runs/ID/capture.pcapng. Token: "Authorization: Bearer TOKEN" or ?token=TOKEN.
`,
  async run(args, io) {
    const { values } = parseCommandArgs('watch', args, {
      config: { type: 'string' },
      listen: { type: 'string' },
      'token-file': { type: 'string' },
      runs: { type: 'string' },
    });
    if (!values.config) throw usageError('watch needs --config FILE', "see 'hopdump watch --help'");
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (err) {
      throw fileError(err);
    }
    const config = parseWatchConfig(text, values.config);
    const listen = parseListen(values.listen ?? config.listen ?? WATCH_DEFAULT_LISTEN);
    const host = localHost();
    requireRoot(host, 'watch');
    const needsFping = config.discover || config.targets.some((t) => (t.probe ?? ['icmp']).includes('icmp'));
    if (needsFping && !host.hasProgram('fping'))
      throw environmentError('fping not found (watch pings every target from one fping)', missingProgramHint('fping'));
    let token: string | undefined;
    if (!listen.loopback) {
      const file = values['token-file'] ?? config.tokenFile;
      if (file) {
        try {
          token = readFileSync(file, 'utf8').trim();
        } catch (err) {
          throw fileError(err);
        }
        if (token.length < 16) throw environmentError(`the token in ${file} is shorter than 16 characters`);
      } else {
        token = randomBytes(16).toString('hex');
        io.stderr(`hopdump watch: token ${token} (send it as "Authorization: Bearer ${token}")\n`);
      }
    }
    const store = new RunsStore({
      root: runsRoot(values.runs ?? config.runs?.dir),
      ...(config.runs?.maxRuns ? { maxRuns: config.runs.maxRuns } : {}),
      ...(config.runs?.maxBytes ? { maxBytes: config.runs.maxBytes } : {}),
    });
    const metrics = new WatchMetrics();
    const server = await startHttp({
      listen,
      token,
      store,
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    }).catch((err: unknown) => {
      throw environmentError(
        `cannot listen on ${listen.host}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    const watcher = new Watcher({
      host,
      config,
      metrics,
      store,
      reader: readHopPackets,
      log: (line) => io.stderr(`${new Date().toISOString()} ${line}\n`),
    });
    await watcher.start();
    // SIGHUP reloads the config, as Prometheus and most daemons do (instead of ending hopdump).
    process.removeAllListeners('SIGHUP');
    process.on('SIGHUP', () => {
      const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
      let next: WatchConfig;
      try {
        next = parseWatchConfig(readFileSync(values.config!, 'utf8'), values.config!);
      } catch (err) {
        log(`watch: config not reloaded: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      void watcher.reload(next).then(
        (r) =>
          log(
            `watch: config reloaded: ${next.targets.length} targets (added ${r.added.join(', ') || 'none'}; removed ${r.removed.join(', ') || 'none'}; changed ${r.changed.join(', ') || 'none'})`,
          ),
        (err: unknown) => log(`watch: reload failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
    const where = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
    io.stderr(
      `hopdump watch: ${config.targets.length} targets every ${config.interval / 1000} s; metrics on http://${where}/metrics; runs in ${store.root}\n`,
    );
    // Until a signal: the cleanup handlers stop the probers (host/cleanup.ts) and exit.
    await new Promise<void>((resolve) => server.once('close', resolve));
    await watcher.stop();
    return 0;
  },
};
