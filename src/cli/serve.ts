import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readHopPackets } from '../correlate/packets.js';
import { environmentError, fileError, usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { RunsStore, runsRoot } from '../report/runs.js';
import { startServe } from '../serve/server.js';
import { parseListen } from '../watch/http.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

/** serve's default address: loopback, beside watch's 17291. */
export const SERVE_DEFAULT_LISTEN = '127.0.0.1:17292';

export const serveCommand: Command = {
  name: 'serve',
  summary: summaryOf('serve'),
  usage: `usage: hopdump serve [--listen ADDR:PORT] [--netns NS] [--from SPEC] [--token-file FILE] [--runs DIR]

A web view of the host's datapath: namespaces, bridges, Open vSwitch, veth
pairs, taps, guests and containers with their addresses, searchable; a click on
a guest highlights its path and "Diagnose" runs a diagnose of it with live
progress, its report shown in place; past runs from the runs store.

  --listen ADDR:PORT  default ${SERVE_DEFAULT_LISTEN}; on any other address every
                      request needs the token: a random one, printed in the URL
                      at start, or --token-file
  --netns NS          look from NS as if it were the host (as diagnose --netns)
  --from SPEC         where the diagnoses' probes come from (as diagnose --from)
  --runs DIR          the runs store's root (default $HOPDUMP_RUNS, else
                      /var/lib/hopdump/runs)

The token goes in the Authorization header (Bearer) or as ?token= (the page's
own links), never in a cookie. Only GET, and POST to start a diagnose, which
needs the page's header and a same-origin request.
`,
  async run(args, io) {
    const { values } = parseCommandArgs('serve', args, {
      listen: { type: 'string' },
      netns: { type: 'string' },
      from: { type: 'string' },
      'token-file': { type: 'string' },
      runs: { type: 'string' },
    });
    const listen = parseListen(values.listen ?? SERVE_DEFAULT_LISTEN);
    if (values.from && !/^(host|netns:.+)$/.test(values.from))
      throw usageError(`--from ${values.from} is host or netns:NAME`);
    const host = localHost();
    requireRoot(host, 'serve');
    if (values.netns) await host.requireNetns(values.netns);
    let token: string | undefined;
    if (!listen.loopback) {
      if (values['token-file']) {
        try {
          token = readFileSync(values['token-file'], 'utf8').trim();
        } catch (err) {
          throw fileError(err);
        }
        if (token.length < 16)
          throw environmentError(`the token in ${values['token-file']} is shorter than 16 characters`);
      } else token = randomBytes(16).toString('hex');
    }
    const server = await startServe({
      host,
      listen,
      token,
      store: new RunsStore({ root: runsRoot(values.runs) }),
      reader: readHopPackets,
      ...(values.netns ? { netns: values.netns } : {}),
      ...(values.from ? { from: values.from } : {}),
    }).catch((err: unknown) => {
      throw environmentError(
        `cannot listen on ${listen.host}:${listen.port}: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    const where = listen.host.includes(':') ? `[${listen.host}]` : listen.host === '0.0.0.0' ? 'HOST' : listen.host;
    io.stderr(`hopdump serve: http://${where}:${listen.port}/${token ? `?token=${token}` : ''}\n`);
    await new Promise<void>((resolve) => server.once('close', resolve));
    return 0;
  },
};
