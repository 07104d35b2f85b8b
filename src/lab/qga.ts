import { sleep } from '../util/sleep.js';
import { createConnection, type Socket } from 'node:net';
import { environmentError } from '../errors.js';
import type { GuestExecResult } from '../host/guest-agent.js';

/**
 * The lab's own way into its QEMU guest: a qemu-ga on a virtio-serial port of
 * the lab's (LAB_CHANNEL), whose host end is a unix socket QEMU listens on,
 * spoken to here in the guest agent's JSON protocol (qemu-ga's
 * guest-sync-delimited, guest-exec, guest-exec-status) without libvirt. The
 * port's name is not the guest agent's (org.qemu.guest_agent.0), so neither
 * libvirt nor hopdump takes it for one: a guest "without an agent" has none
 * that hopdump could use, and the lab can still apply its faults inside it.
 */
export const LAB_CHANNEL = 'org.hopdump.lab.0';

const SYNC_BYTE = 0xff;

/** One connection to the channel; commands go one at a time, in order. */
class QgaConnection {
  private buf = Buffer.alloc(0);
  private waiting: Array<(line: string) => void> = [];
  private synced = false;
  private failed: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly path: string,
  ) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error(`${path} closed`)));
  }

  static open(path: string, timeoutMs: number): Promise<QgaConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new QgaConnection(socket, path));
      });
    });
  }

  private fail(err: Error): void {
    this.failed ??= err;
  }

  /** Whole lines after the sync byte; what came before it is an earlier session's. */
  private drain(): void {
    if (!this.synced) {
      const at = this.buf.indexOf(SYNC_BYTE);
      if (at < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      this.buf = this.buf.subarray(at + 1);
      this.synced = true;
    }
    for (let nl = this.buf.indexOf(10); nl >= 0 && this.waiting.length > 0; nl = this.buf.indexOf(10)) {
      const line = this.buf.subarray(0, nl).toString('utf8').trim();
      this.buf = this.buf.subarray(nl + 1);
      if (line) this.waiting.shift()!(line);
    }
  }

  private readLine(deadline: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiting = this.waiting.filter((w) => w !== take);
          reject(this.failed ?? new Error(`no answer on ${this.path}`));
        },
        Math.max(1, deadline - Date.now()),
      );
      const take = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiting.push(take);
      this.drain();
    });
  }

  /** guest-sync-delimited: qemu-ga flushes what it had and answers after a 0xff byte. */
  async sync(deadline: number): Promise<void> {
    const id = Math.floor(Math.random() * 0x7fffffff);
    this.synced = false;
    this.socket.write(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`);
    for (;;) {
      const reply = JSON.parse(await this.readLine(deadline)) as { return?: unknown };
      if (reply.return === id) return;
    }
  }

  async command(execute: string, args: Record<string, unknown> | undefined, deadline: number): Promise<unknown> {
    this.socket.write(`${JSON.stringify({ execute, ...(args ? { arguments: args } : {}) })}\n`);
    const reply = JSON.parse(await this.readLine(deadline)) as { return?: unknown; error?: { desc?: string } };
    if (reply.error) throw new Error(`${execute}: ${reply.error.desc ?? 'error'}`);
    return reply.return;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withChannel<T>(
  path: string,
  timeoutMs: number,
  fn: (c: QgaConnection, deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const c = await QgaConnection.open(path, timeoutMs);
  try {
    await c.sync(deadline);
    return await fn(c, deadline);
  } finally {
    c.close();
  }
}

/** guest-ping on the lab's channel: resolves once the guest's qemu-ga answers there. */
export function qgaPing(path: string, timeoutMs: number): Promise<void> {
  return withChannel(path, timeoutMs, async (c, deadline) => {
    await c.command('guest-ping', undefined, deadline);
  });
}

/** Runs argv in the guest (no shell) and waits for it: its status and output. */
export function qgaExec(
  path: string,
  argv: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<GuestExecResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return withChannel(path, timeoutMs, async (c, deadline) => {
    const started = (await c.command(
      'guest-exec',
      {
        path: argv[0],
        arg: argv.slice(1),
        'capture-output': true,
        ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}),
      },
      deadline,
    )) as { pid: number };
    for (;;) {
      const s = (await c.command('guest-exec-status', { pid: started.pid }, deadline)) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        'out-data'?: string;
        'err-data'?: string;
        'out-truncated'?: boolean;
        'err-truncated'?: boolean;
      };
      if (s.exited) {
        return {
          code: s.exitcode ?? -1,
          ...(s.signal !== undefined ? { signal: s.signal } : {}),
          stdout: Buffer.from(s['out-data'] ?? '', 'base64'),
          stderr: Buffer.from(s['err-data'] ?? '', 'base64'),
          truncated: Boolean(s['out-truncated'] || s['err-truncated']),
        };
      }
      if (Date.now() > deadline)
        throw environmentError(`${argv.join(' ')} did not finish in the guest within ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  });
}
