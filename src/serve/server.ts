import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { discover } from '../collect/discover.js';
import type { PacketReader } from '../capture/session.js';
import { diagnose, type DiagnosePhase } from '../diagnose/diagnose.js';
import type { Host } from '../host/host.js';
import { findPath } from '../path/find.js';
import type { RunsStore } from '../report/runs.js';
import { listenOn, send, serveRuns, tokenGiven, type ListenAddress } from '../watch/http.js';
import { buildGraph, ifNodeId } from './graph.js';
import { page, staticScript } from './page.js';

/**
 * `hopdump serve`'s HTTP API (the page is page.ts). Read-only but for one thing: POST
 * /api/diagnose starts a diagnose, which needs (1) the token in the Authorization header when
 * serve is bound off loopback (no query parameter for a POST), else the X-Hopdump-Request
 * header, which no cross-origin form can send and no cross-origin script can without a CORS
 * preflight that serve never grants; (2) a Host header naming this server (against DNS
 * rebinding); (3) no Origin, or this server's own. The diagnose runs as from the command line
 * (one at a time), its run goes to the runs store, its progress to GET
 * /api/diagnose/ID/events as server-sent events.
 */
export interface ServeOptions {
  host: Host;
  listen: ListenAddress;
  token: string | undefined;
  store: RunsStore;
  reader: PacketReader;
  /** Where a watch on this host exports its metrics (targets coloured by their state); default watch's. */
  watchUrl?: string;
  /** Defaults for the diagnoses it starts, as --netns and --from. */
  netns?: string;
  from?: string;
}

interface Job {
  id: string;
  target: string;
  events: Array<{ event: string; data: unknown }>;
  listeners: Set<ServerResponse>;
  done: boolean;
}

export async function startServe(o: ServeOptions): Promise<Server> {
  const jobs = new Map<string, Job>();
  let running: Job | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;

  const emit = (job: Job, event: string, data: unknown) => {
    job.events.push({ event, data });
    for (const res of job.listeners) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (event === 'done' || event === 'error') {
      job.done = true;
      for (const res of job.listeners) res.end();
      job.listeners.clear();
    }
  };

  const hostAllowed = (req: IncomingMessage) => {
    const h = (req.headers.host ?? '').toLowerCase();
    const port = String(o.listen.port);
    const names = ['localhost', '127.0.0.1', '[::1]'];
    if (!o.listen.loopback) return h !== '' && h.endsWith(`:${port}`);
    return names.some((n) => h === `${n}:${port}`);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hopdump');
    if (!hostAllowed(req)) return send(res, 421, 'text/plain', 'this server does not answer for that Host\n');
    if (!tokenGiven(o.token, req, url)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, 'text/plain', 'a token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)\n');
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'POST' && url.pathname === '/api/diagnose') return startDiagnose(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'only GET, and POST /api/diagnose\n');
    if (url.pathname === '/') {
      res.setHeader(
        'content-security-policy',
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-src 'self'; img-src data:",
      );
      return send(res, 200, 'text/html; charset=utf-8', page(o.token));
    }
    if (parts[0] === 'static' && parts.length === 2) {
      const js = staticScript(parts[1]!);
      if (js === undefined) return send(res, 404, 'text/plain', 'not found\n');
      return send(res, 200, 'text/javascript; charset=utf-8', js);
    }
    if (url.pathname === '/api/graph') {
      const topology = await discover({ host: o.host, ...(o.netns ? { netns: o.netns } : {}) });
      return send(res, 200, 'application/json', JSON.stringify(buildGraph(topology)));
    }
    if (url.pathname === '/api/state')
      return send(res, 200, 'application/json', JSON.stringify(await watchState(o.watchUrl)));
    if (url.pathname === '/api/path') {
      const target = url.searchParams.get('target') ?? '';
      const topology = await discover({ host: o.host, ...(o.netns ? { netns: o.netns } : {}) });
      try {
        const path = findPath(topology, target);
        return send(
          res,
          200,
          'application/json',
          JSON.stringify({ path, nodes: path.hops.map((h) => ifNodeId(h.netns, h.ifname)) }),
        );
      } catch (err) {
        return send(
          res,
          404,
          'application/json',
          JSON.stringify({ error: err instanceof Error ? err.message : String(err) }),
        );
      }
    }
    if (parts[0] === 'api' && parts[1] === 'diagnose' && parts[3] === 'events' && parts.length === 4) {
      const job = jobs.get(parts[2]!);
      if (!job) return send(res, 404, 'text/plain', 'no such diagnose\n');
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      for (const e of job.events) res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
      if (job.done) return void res.end();
      job.listeners.add(res);
      req.on('close', () => job.listeners.delete(res));
      return;
    }
    if (serveRuns(o.store, req, res, parts)) return;
    send(res, 404, 'text/plain', 'not found\n');
  }

  async function startDiagnose(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // The header, never a query parameter or a cookie: a cross-origin page cannot send it.
    const headerOk =
      o.token !== undefined ? tokenGiven(o.token, req, url, true) : req.headers['x-hopdump-request'] === 'diagnose';
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || origin === `http://${req.headers.host}`;
    const site = req.headers['sec-fetch-site'];
    if (!headerOk || !sameOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none'))
      return send(res, 403, 'text/plain', 'a diagnose is started only by this page (same origin, with its header)\n');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return send(res, 415, 'text/plain', 'send JSON: {"target": "..."}\n');
    const body = await readBody(req, 4096);
    let target: string;
    try {
      const t = (JSON.parse(body) as { target?: unknown }).target;
      target = typeof t === 'string' ? t : '';
    } catch {
      return send(res, 400, 'text/plain', 'not JSON\n');
    }
    if (!target || target.length > 256) return send(res, 400, 'text/plain', 'no target\n');
    if (running && !running.done)
      return send(res, 409, 'application/json', JSON.stringify({ error: 'a diagnose is running', id: running.id }));
    const job: Job = { id: randomBytes(6).toString('hex'), target, events: [], listeners: new Set(), done: false };
    jobs.set(job.id, job);
    running = job;
    send(res, 202, 'application/json', JSON.stringify({ id: job.id, events: `/api/diagnose/${job.id}/events` }));
    const run = o.store.create(target, 'serve');
    void diagnose({
      host: o.host,
      reader: o.reader,
      target,
      ...(o.netns ? { netns: o.netns } : {}),
      probes: [],
      from: o.from ?? 'host',
      count: 3,
      passive: false,
      phase: (phase: DiagnosePhase, detail: string) => emit(job, 'phase', { phase, detail }),
    }).then(
      (r) => {
        o.store.keep(run.id, r.report, r.packets);
        emit(job, 'done', { run: run.id, status: r.report.status, cause: r.report.causes[0]?.id ?? null });
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        o.store.finish(run.id, { error: message });
        emit(job, 'error', { run: run.id, message });
      },
    );
  }

  await listenOn(server, o.listen);
  return server;
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
      if (body.length > max) {
        reject(new Error('request too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/**
 * The targets' states from a watch on this host (hopdump_target_up on its /metrics): name → up.
 * A watch bound off loopback needs its token, which serve does not have: then, or with no watch,
 * no states (the page draws targets uncoloured).
 */
export async function watchState(
  url = 'http://127.0.0.1:17291/metrics',
): Promise<{ watch: string; targets: Record<string, boolean> }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1500) });
    if (!r.ok) return { watch: `${url}: HTTP ${r.status}`, targets: {} };
    const targets: Record<string, boolean> = {};
    for (const m of (await r.text()).matchAll(/^hopdump_target_up\{target="((?:[^"\\]|\\.)*)"\} (\d)/gm))
      targets[m[1]!.replace(/\\(.)/g, '$1')] = m[2] === '1';
    return { watch: url, targets };
  } catch (err) {
    return { watch: `${url}: ${err instanceof Error ? err.message : String(err)}`, targets: {} };
  }
}
