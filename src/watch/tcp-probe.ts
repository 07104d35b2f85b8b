import { createInterface } from 'node:readline';
import { connect } from 'node:net';

export interface TcpRequest {
  id: number;
  host: string;
  port: number;
  timeoutMs: number;
}

export interface TcpAnswer {
  id: number;
  ok: boolean;
  /** Connect time in milliseconds when answered. */
  ms?: number;
  /** ECONNREFUSED, timeout, EHOSTUNREACH, ... */
  error?: string;
}

/** One TCP connect: answered when the handshake completes; closed at once. */
export function tcpConnect(req: TcpRequest): Promise<TcpAnswer> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const sock = connect({ host: req.host, port: req.port });
    let done = false;
    const finish = (a: Omit<TcpAnswer, 'id'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ id: req.id, ...a });
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), req.timeoutMs);
    sock.once('connect', () => finish({ ok: true, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    sock.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
  });
}

/**
 * The agent's loop (tcp-agent.ts in a checkout, `hopdump __tcp-agent` in the single executable):
 * one JSON request per line on stdin, one JSON answer per line on stdout; exits when stdin closes
 * and the requests read by then are answered.
 */
export function runTcpAgent(): void {
  const rl = createInterface({ input: process.stdin });
  let pending = 0;
  let closed = false;
  rl.on('line', (line) => {
    let req: TcpRequest;
    try {
      req = JSON.parse(line) as TcpRequest;
    } catch {
      return;
    }
    pending++;
    void tcpConnect(req).then((res) =>
      process.stdout.write(`${JSON.stringify(res)}\n`, () => {
        if (--pending === 0 && closed) process.exit(0);
      }),
    );
  });
  // Requests already read are answered first (each has its own timeout).
  rl.on('close', () => {
    closed = true;
    if (pending === 0) process.exit(0);
  });
}
