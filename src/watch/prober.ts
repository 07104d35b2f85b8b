import { executableAssets, TCP_AGENT_ARG } from '../embedded.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Host, Spawned } from '../host/host.js';
import { tcpConnect, type TcpAnswer } from './tcp-probe.js';

/**
 * watch's probes, with no new process per probe: per source namespace, one long-running fping
 * for every ICMP target (`fping -l`: a ping per target per period, each reply one line) and, for
 * TCP, connects made by hopdump itself on the host or by one long-running agent inside the
 * namespace (tcp-agent.ts). The probers are replaced when the set of targets changes.
 */

/**
 * A prober's bound on life (the host layer kills every child at its bound; a timer cannot
 * be longer than 2^31 - 1 ms). The watch loop starts a new one when one has ended.
 */
export const PROBER_LIFETIME_MS = 7 * 86_400_000;

export interface ProbeSample {
  ok: boolean;
  /** Round trip (ICMP) or connect time (TCP), seconds. */
  seconds?: number;
  /** When the reply came (ICMP: the same reply can be the answer of two intervals; observed once). */
  at?: number;
  detail?: string;
}

/** One fping in one namespace for a set of addresses. */
export class IcmpProber {
  private child: Spawned | undefined;
  private readonly last = new Map<string, { at: number; seconds: number }>();
  private stderr = '';
  /** True once fping has exited (killed, crashed, or at its bound on life). */
  ended = false;

  constructor(
    private readonly host: Host,
    readonly netns: string | undefined,
    readonly addresses: string[],
    private readonly periodMs: number,
  ) {}

  start(): void {
    // -l loop, -p period per target, -t timeout per ping, -e elapsed time, -A addresses as given,
    // -N no: plain lines; -B1 no backoff; -r0 no retries (each period is one try).
    const argv = [
      'fping',
      '-l',
      '-A',
      '-e',
      '-r',
      '0',
      '-B',
      '1',
      '-p',
      String(Math.max(20, Math.round(this.periodMs))),
      '-t',
      String(Math.max(50, Math.min(2000, Math.round(this.periodMs * 0.8)))),
      '--',
      ...this.addresses,
    ];
    this.child = this.host.spawn(argv, {
      ...(this.netns ? { netns: this.netns } : {}),
      maxLifetimeMs: PROBER_LIFETIME_MS,
    });
    void this.child.exited.then(() => (this.ended = true));
    const rl = createInterface({ input: this.child.stdout });
    rl.on('line', (line) => this.onLine(line));
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-2000);
    });
  }

  /** `192.0.2.11 : [3], 64 bytes, 0.051 ms (0.049 avg, 0% loss)` */
  private onLine(line: string): void {
    const m = /^(\S+)\s+:\s+\[\d+\],\s+\d+ bytes,\s+([\d.]+) ms/.exec(line);
    if (!m) return;
    this.last.set(m[1]!, { at: Date.now(), seconds: Number(m[2]) / 1000 });
  }

  /** Whether `address` answered since `sinceMs` (epoch ms). */
  sample(address: string, sinceMs: number): ProbeSample {
    const l = this.last.get(address);
    if (l && l.at >= sinceMs) return { ok: true, seconds: l.seconds, at: l.at };
    // fping's own complaint only when it is about this address (unreachable, ...).
    const err = this.failure;
    return { ok: false, detail: err?.includes(address) ? err : 'no reply' };
  }

  get failure(): string | undefined {
    return this.stderr.trim().split('\n').pop();
  }

  async stop(): Promise<void> {
    await this.child?.stop(1000);
  }
}

/** TCP connects from one namespace: in-process on the host, through a long-running agent elsewhere. */
export class TcpProber {
  private agent: Spawned | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (a: TcpAnswer) => void>();
  /** True once the agent has exited. */
  ended = false;

  constructor(
    private readonly host: Host,
    readonly netns: string | undefined,
  ) {}

  start(): void {
    if (!this.netns) return;
    // The single executable is its own agent; from a checkout, node runs the agent's script.
    const argv = executableAssets()
      ? [process.execPath, TCP_AGENT_ARG]
      : [process.execPath, fileURLToPath(new URL('./tcp-agent.js', import.meta.url))];
    this.agent = this.host.spawn(argv, {
      netns: this.netns,
      maxLifetimeMs: PROBER_LIFETIME_MS,
      cleansUpOnStdinEof: true,
    });
    void this.agent.exited.then(() => (this.ended = true));
    const rl = createInterface({ input: this.agent.stdout });
    rl.on('line', (line) => {
      try {
        const a = JSON.parse(line) as TcpAnswer;
        this.pending.get(a.id)?.(a);
        this.pending.delete(a.id);
      } catch {
        /* not an answer */
      }
    });
  }

  async probe(address: string, port: number, timeoutMs: number): Promise<ProbeSample> {
    const id = this.nextId++;
    const req = { id, host: address, port, timeoutMs };
    let answer: TcpAnswer;
    if (!this.agent) answer = await tcpConnect(req);
    else {
      const agent = this.agent;
      answer = await new Promise<TcpAnswer>((resolve) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          resolve({ id, ok: false, error: 'no answer from the probe agent' });
        }, timeoutMs + 2000);
        this.pending.set(id, (a) => {
          clearTimeout(timer);
          resolve(a);
        });
        agent.stdin?.write(`${JSON.stringify(req)}\n`);
      });
    }
    return answer.ok
      ? { ok: true, ...(answer.ms !== undefined ? { seconds: answer.ms / 1000 } : {}) }
      : { ok: false, detail: answer.error ?? 'failed' };
  }

  async stop(): Promise<void> {
    await this.agent?.stop(1000);
  }
}
