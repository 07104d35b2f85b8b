import { environmentError } from '../errors.js';
import type { Host, RunOptions, RunResult, Spawned } from './host.js';
import { CommandError, showArgv } from './local.js';
import { virshArgv } from './virsh.js';
import { sleep } from '../util/sleep.js';

/**
 * Inside a libvirt guest through its QEMU guest agent (qemu-ga on the
 * org.qemu.guest_agent.0 virtio-serial channel), with `virsh
 * qemu-agent-command`: guest-exec runs a program from an argv array (no
 * shell in between), guest-exec-status returns its status and base64 output,
 * guest-file-open/read/close fetch a file. Nothing needs the guest's network:
 * it works when the guest's NIC is down, which is when it is needed most.
 *
 * `uri` undefined means what virsh does by itself (LIBVIRT_DEFAULT_URI or
 * libvirt's default); every agent call has a timeout and fails with
 * "guest agent not responding on DOMAIN".
 */
export interface GuestOptions {
  /** Bound on the whole operation; default 15 s. */
  timeoutMs?: number;
  /** Bytes for the program's stdin (guest-exec input-data). */
  input?: string | Buffer;
}

export interface GuestExecResult {
  /** The guest program's exit status, or -1 when it was ended by a signal. */
  code: number;
  signal?: number;
  stdout: Buffer;
  stderr: Buffer;
  /** qemu-ga keeps at most 16 MiB of each stream. */
  truncated: boolean;
}

const AGENT_CALL_TIMEOUT_S = 5;

/** One agent command; returns its "return" member. */
export async function agentCommand(
  host: Host,
  uri: string | undefined,
  domain: string,
  command: { execute: string; arguments?: Record<string, unknown> },
  timeoutS = AGENT_CALL_TIMEOUT_S,
): Promise<unknown> {
  const argv = virshArgv(uri, [
    'qemu-agent-command',
    '--domain',
    domain,
    '--cmd',
    JSON.stringify(command),
    '--timeout',
    String(timeoutS),
  ]);
  let r: RunResult;
  try {
    r = await host.run(argv, { timeoutMs: timeoutS * 1000 + 10_000 });
  } catch (err) {
    throw agentError(domain, command.execute, err);
  }
  try {
    const reply = JSON.parse(r.stdout) as { return?: unknown; error?: { desc?: string } };
    if (reply.error) throw new Error(reply.error.desc ?? 'error');
    return reply.return;
  } catch (err) {
    throw environmentError(
      `guest agent on ${domain}: ${command.execute} gave no answer hopdump can read`,
      String(err),
      err,
    );
  }
}

function agentError(domain: string, execute: string, err: unknown): Error {
  const stderr = err instanceof CommandError ? (err.result?.stderr ?? '') : '';
  const first = stderr.trim().split('\n')[0] ?? '';
  if (/failed to get domain|Domain not found/i.test(stderr)) {
    return environmentError(
      `libvirt domain '${domain}' not found`,
      'see virsh list --all (and LIBVIRT_DEFAULT_URI)',
      err,
    );
  }
  // virsh itself missing: that error already says what to install.
  if (err instanceof CommandError && !err.result) return err;
  const timedOut = err instanceof CommandError && /did not finish within/.test(err.message);
  if (timedOut || /not responding|not connected|not running|Guest agent is not|agent is not/i.test(stderr)) {
    return environmentError(
      `guest agent not responding on ${domain}`,
      `is qemu-guest-agent running in the guest and an org.qemu.guest_agent.0 channel in its XML? (${first || execute})`,
      err,
    );
  }
  // qemu-ga's own errors (a program not found for guest-exec, a file that does not open) come through virsh.
  return environmentError(
    `guest agent on ${domain}: ${execute} failed: ${first.replace(/^error: /, '') || 'no message'}`,
    undefined,
    err,
  );
}

/** Throws "guest agent not responding on DOMAIN" unless guest-ping answers within timeoutMs. */
export async function guestPing(
  host: Host,
  uri: string | undefined,
  domain: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  await agentCommand(
    host,
    uri,
    domain,
    { execute: 'guest-ping' },
    Math.max(1, Math.ceil((options.timeoutMs ?? 5000) / 1000)),
  );
}

/** Runs argv in the guest and waits for it: no shell, the program is argv[0] (found on the guest's PATH). */
export async function guestExec(
  host: Host,
  uri: string | undefined,
  domain: string,
  argv: string[],
  options: GuestOptions = {},
): Promise<GuestExecResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const pid = await guestExecStart(host, uri, domain, argv, options.input);
  let delay = 20;
  for (;;) {
    const status = await guestExecStatus(host, uri, domain, pid);
    if (status) return status;
    if (Date.now() > deadline) {
      await guestKill(host, uri, domain, pid, 'KILL');
      throw environmentError(`${showArgv(argv)} in guest ${domain} did not finish within ${timeoutMs} ms`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Starts argv in the guest without waiting; returns the guest pid. */
export async function guestExecStart(
  host: Host,
  uri: string | undefined,
  domain: string,
  argv: string[],
  input?: string | Buffer,
): Promise<number> {
  const [path, ...arg] = argv;
  if (!path) throw new Error('guestExec: empty argv');
  const ret = (await agentCommand(host, uri, domain, {
    execute: 'guest-exec',
    arguments: {
      path,
      arg,
      'capture-output': true,
      ...(input !== undefined ? { 'input-data': Buffer.from(input).toString('base64') } : {}),
    },
  })) as { pid?: number };
  if (typeof ret?.pid !== 'number') throw environmentError(`guest agent on ${domain}: guest-exec returned no pid`);
  return ret.pid;
}

/** The finished program's result, or undefined while it still runs. */
export async function guestExecStatus(
  host: Host,
  uri: string | undefined,
  domain: string,
  pid: number,
): Promise<GuestExecResult | undefined> {
  const s = (await agentCommand(host, uri, domain, { execute: 'guest-exec-status', arguments: { pid } })) as {
    exited?: boolean;
    exitcode?: number;
    signal?: number;
    'out-data'?: string;
    'err-data'?: string;
    'out-truncated'?: boolean;
    'err-truncated'?: boolean;
  };
  if (!s?.exited) return undefined;
  return {
    code: s.exitcode ?? -1,
    ...(s.signal !== undefined ? { signal: s.signal } : {}),
    stdout: Buffer.from(s['out-data'] ?? '', 'base64'),
    stderr: Buffer.from(s['err-data'] ?? '', 'base64'),
    truncated: Boolean(s['out-truncated'] || s['err-truncated']),
  };
}

/** Best effort: a guest program that overran its time is signalled (through the guest's own kill). */
export async function guestKill(
  host: Host,
  uri: string | undefined,
  domain: string,
  pid: number,
  signal: 'INT' | 'TERM' | 'KILL',
): Promise<void> {
  try {
    await guestExecStart(host, uri, domain, ['kill', `-${signal}`, String(pid)]);
  } catch {
    /* the agent is gone too */
  }
}

/**
 * A Host whose programs run inside the guest: the same collectors that read a
 * namespace (ip -j -batch, nft -j) read the guest through it. Only `run` is
 * meaningful; nothing long-running is started through the agent this way.
 */
export function guestHost(host: Host, uri: string | undefined, domain: string): Host {
  return {
    description: `guest ${domain} (qemu guest agent)`,
    async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
      if (options.netns) throw new Error(`guestHost: namespaces inside guest ${domain} are not supported`);
      const r = await guestExec(host, uri, domain, argv, {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.input !== undefined ? { input: options.input } : {}),
      });
      const result: RunResult = {
        argv,
        netns: undefined,
        stdout: r.stdout.toString('utf8'),
        stderr: r.stderr.toString('utf8'),
        code: r.code,
      };
      const ok = options.okCodes === 'any' || (options.okCodes ?? [0]).includes(r.code);
      if (!ok) {
        const first = result.stderr.trim().split('\n')[0] || 'no message';
        throw new CommandError(
          `${showArgv(argv)} in guest ${domain} failed (exit ${r.code}): ${first}`,
          undefined,
          result,
        );
      }
      return result;
    },
    spawn(): Spawned {
      throw new Error(`guestHost(${domain}).spawn: use startGuestCapture for long-running programs`);
    },
    daemon(): Promise<number> {
      return Promise.reject(new Error(`guestHost(${domain}).daemon is not supported`));
    },
    listNetns: () => Promise.resolve([]),
    requireNetns: (netns: string) => Promise.reject(environmentError(`no namespace '${netns}' inside guest ${domain}`)),
    isRoot: () => true,
    hasProgram: () => true,
  };
}

/** Reads a whole file from the guest (guest-file-open/read/close, base64 chunks). */
export async function guestReadFile(
  host: Host,
  uri: string | undefined,
  domain: string,
  path: string,
  maxBytes = 256 << 20,
): Promise<Buffer> {
  const handle = (await agentCommand(host, uri, domain, {
    execute: 'guest-file-open',
    arguments: { path, mode: 'r' },
  })) as number;
  if (typeof handle !== 'number')
    throw environmentError(`guest agent on ${domain}: guest-file-open ${path} returned no handle`);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const r = (await agentCommand(
        host,
        uri,
        domain,
        { execute: 'guest-file-read', arguments: { handle, count: 4 << 20 } },
        30,
      )) as {
        count: number;
        'buf-b64': string;
        eof: boolean;
      };
      const chunk = Buffer.from(r['buf-b64'] ?? '', 'base64');
      chunks.push(chunk);
      total += chunk.length;
      if (total > maxBytes) throw environmentError(`${path} in guest ${domain} is larger than ${maxBytes} bytes`);
      if (r.eof || chunk.length === 0) break;
    }
  } finally {
    await guestCloseFile(host, uri, domain, handle);
  }
  return Buffer.concat(chunks);
}

export async function guestTryOpen(
  host: Host,
  uri: string | undefined,
  domain: string,
  path: string,
): Promise<number | undefined> {
  try {
    const h = await agentCommand(host, uri, domain, { execute: 'guest-file-open', arguments: { path, mode: 'r' } });
    return typeof h === 'number' ? h : undefined;
  } catch (err) {
    if (err instanceof Error && /not responding|not found/.test(err.message)) throw err;
    return undefined;
  }
}

export async function guestCloseFile(
  host: Host,
  uri: string | undefined,
  domain: string,
  handle: number,
): Promise<void> {
  await agentCommand(host, uri, domain, { execute: 'guest-file-close', arguments: { handle } }).catch(() => undefined);
}
