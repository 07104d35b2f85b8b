import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import type { RunsStore } from '../report/runs.js';

/** watch's default address: loopback, a port outside Prometheus' exporter range (9100-9999, all allocated). */
export const WATCH_DEFAULT_LISTEN = '127.0.0.1:17291';

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** `ADDR:PORT`, `[V6]:PORT` or `:PORT` (all addresses). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  if (!m || port < 1 || port > 65535 || (host !== '' && host !== 'localhost' && isIP(host) === 0))
    throw usageError(`--listen ${text} is not ADDR:PORT (e.g. 127.0.0.1:17291, [::1]:17291, 0.0.0.0:17291)`);
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return { host: host === '' ? '::' : host, port, loopback };
}

export interface HttpOptions {
  listen: ListenAddress;
  /** Required on every request when set (Authorization: Bearer TOKEN, or ?token=TOKEN). */
  token: string | undefined;
  metrics: () => Promise<{ contentType: string; body: string }>;
  store: RunsStore;
}

/** GET /metrics, /runs, /runs/ID/report.json, /runs/ID/report.txt, /runs/ID/capture.pcapng. */
export async function startHttp(o: HttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await listenOn(server, o.listen);
  return server;
}

/** Starts listening; rejects with the bind error (address in use, not available). */
export function listenOn(server: Server, l: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(l.port, l.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/** The token as `Authorization: Bearer TOKEN` or `?token=TOKEN` (never a cookie); compared in constant time. */
export function tokenGiven(token: string | undefined, req: IncomingMessage, url: URL, headerOnly = false): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ')
    ? header.slice(7).trim()
    : headerOnly
      ? ''
      : (url.searchParams.get('token') ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const FILES: Record<string, string> = {
  'report.json': 'application/json',
  'report.txt': 'text/plain; charset=utf-8',
  'report.html': 'text/html; charset=utf-8',
  'capture.pcapng': 'application/vnd.tcpdump.pcap',
};

async function handle(o: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://hopdump');
  if (!tokenGiven(o.token, req, url)) {
    res.setHeader('www-authenticate', 'Bearer');
    return send(res, 401, 'text/plain', 'a token is required (Authorization: Bearer TOKEN)\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
  const parts = url.pathname.split('/').filter(Boolean);
  if (url.pathname === '/metrics') {
    const m = await o.metrics();
    return send(res, 200, m.contentType, m.body);
  }
  if (url.pathname === '/') return send(res, 200, 'text/plain', 'hopdump watch: /metrics, /runs\n');
  if (serveRuns(o.store, req, res, parts)) return;
  send(res, 404, 'text/plain', 'not found\n');
}

/** GET /runs and /runs/ID/FILE from the runs store; false when the path is not one of them. */
export function serveRuns(store: RunsStore, req: IncomingMessage, res: ServerResponse, parts: string[]): boolean {
  if (parts[0] !== 'runs') return false;
  if (parts.length === 1) {
    const runs = store.list().map(({ dir: _dir, ...r }) => r);
    send(res, 200, 'application/json', `${JSON.stringify(runs, null, 2)}\n`);
    return true;
  }
  if (parts.length !== 3) return false;
  const run = store.get(parts[1]!);
  const type = FILES[parts[2]!];
  if (!run || !type || !run.files.includes(parts[2]!)) {
    send(res, 404, 'text/plain', 'no such run or file\n');
    return true;
  }
  res.writeHead(200, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(parts[2] === 'capture.pcapng' ? { 'content-disposition': `attachment; filename="${run.id}.pcapng"` } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(join(run.dir, parts[2]!))
    .on('error', () => res.destroy())
    .pipe(res);
  return true;
}
