import { spawn as spawnChild } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { environmentError, HopdumpError } from '../errors.js';
import { registerCleanup } from './cleanup.js';
import type { DaemonOptions, Host, RunOptions, RunResult, SpawnOptions, Spawned } from './host.js';
import { missingProgramHint } from './programs.js';

/** Where iproute2 keeps named namespaces (NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = '/run/netns';
const DEFAULT_TIMEOUT_MS = 15_000;
/** iproute2 tools that enter a namespace themselves with `-n NS` (no extra exec, no sysfs remount). */
const NETNS_AWARE = new Set(['ip', 'bridge', 'tc']);

/** The command line shown in messages: argv joined, arguments with spaces quoted. */
export function showArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A command that ran and failed; says what was run, where, and how it ended. */
export class CommandError extends HopdumpError {
  readonly result: RunResult | undefined;
  constructor(message: string, hint?: string, result?: RunResult) {
    super('environment', message, hint === undefined ? {} : { hint });
    this.result = result;
  }
}

/**
 * A namespace is named as `ip netns list` shows it, or "pid:N" for an unnamed
 * one (a container's) entered through a process in it.
 */
export function wrapForNetns(argv: string[], netns: string | undefined): string[] {
  if (!netns) return argv;
  const pid = netns.match(/^pid:(\d+)$/)?.[1];
  if (pid) return ['nsenter', `--net=/proc/${pid}/ns/net`, '--', ...argv];
  const [program, ...rest] = argv;
  if (program !== undefined && NETNS_AWARE.has(program)) return [program, '-n', netns, ...rest];
  return ['ip', 'netns', 'exec', netns, ...argv];
}

export class LocalHost implements Host {
  readonly description = 'local host';

  hasProgram(program: string): boolean {
    return onPath(program);
  }

  isRoot(): boolean {
    return typeof process.getuid === 'function' && process.getuid() === 0;
  }

  listNetns(): Promise<string[]> {
    return Promise.resolve(existsSync(NETNS_RUN_DIR) ? readdirSync(NETNS_RUN_DIR).sort() : []);
  }

  requireNetns(netns: string): Promise<void> {
    // Thrown inside the executor: a rejection, as callers expect.
    return new Promise<void>((resolve) => {
      const pid = netns.match(/^pid:(\d+)$/)?.[1];
      if (pid) {
        if (!existsSync(`/proc/${pid}/ns/net`))
          throw environmentError(`network namespace of process ${pid} not found`, 'the process has exited');
      } else if (!/^[\w.@:+-]+$/.test(netns) || !existsSync(`${NETNS_RUN_DIR}/${netns}`)) {
        throw environmentError(`network namespace '${netns}' not found`, "see 'ip netns list'");
      }
      resolve();
    });
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('run: empty argv');
    if (options.netns) await this.requireNetns(options.netns);
    const full = wrapForNetns(argv, options.netns);
    const where = options.netns ? ` in netns ${options.netns}` : '';
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const program = argv[0]!;

    return new Promise<RunResult>((resolve, reject) => {
      const child = spawnChild(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.stdin.on('error', () => {
        /* the program may exit before reading its input */
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e.code === 'ENOENT') {
          reject(new CommandError(`${full[0]} not found`, missingProgramHint(full[0]!)));
        } else {
          reject(new CommandError(`could not run ${showArgv(argv)}${where}: ${e.message}`));
        }
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const result: RunResult = {
          argv,
          netns: options.netns,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code: code ?? -1,
        };
        if (timedOut) {
          reject(
            new CommandError(`${showArgv(argv)}${where} did not finish within ${timeoutMs} ms`, undefined, result),
          );
          return;
        }
        // `ip netns exec` reports a missing program itself (exit 255).
        if (options.netns && code === 255 && /exec of .* failed: No such file or directory/.test(result.stderr)) {
          reject(new CommandError(`${program} not found${where}`, missingProgramHint(program), result));
          return;
        }
        const ok = options.okCodes === 'any' || (options.okCodes ?? [0]).includes(result.code);
        if (!ok) {
          const firstLine = result.stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : 'no message');
          reject(
            new CommandError(`${showArgv(argv)}${where} failed (exit ${result.code}): ${firstLine}`, undefined, result),
          );
          return;
        }
        resolve(result);
      });
      if (options.input !== undefined) child.stdin.end(options.input);
      else child.stdin.end();
    });
  }

  async daemon(argv: string[], options: DaemonOptions = {}): Promise<number> {
    if (options.netns) await this.requireNetns(options.netns);
    // Inside `ip netns exec` a missing program only shows as an exit status
    // nobody waits for; look it up on PATH first.
    if (!onPath(argv[0]!)) throw new CommandError(`${argv[0]} not found`, missingProgramHint(argv[0]!));
    const full =
      options.netOnly && options.netns && !options.netns.startsWith('pid:')
        ? ['nsenter', `--net=/run/netns/${options.netns}`, '--', ...argv]
        : wrapForNetns(argv, options.netns);
    const child = spawnChild(full[0]!, full.slice(1), { stdio: 'ignore', detached: true });
    return new Promise<number>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ENOENT'
            ? new CommandError(`${full[0]} not found`, missingProgramHint(full[0]!))
            : new CommandError(`could not start ${showArgv(argv)}: ${e.message}`),
        ),
      );
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  }

  spawn(argv: string[], options: SpawnOptions): Spawned {
    // setpriv --pdeathsig: the kernel kills the program if hopdump dies, even
    // by SIGKILL (prctl PR_SET_PDEATHSIG survives the execs that follow).
    const full = wrapForNetns(
      options.cleansUpOnStdinEof ? argv : ['setpriv', '--pdeathsig', 'KILL', '--', ...argv],
      options.netns,
    );
    const child = spawnChild(full[0]!, full.slice(1), {
      stdio: [options.cleansUpOnStdinEof ? 'pipe' : 'ignore', options.stdoutFd ?? 'pipe', 'pipe'],
      detached: true,
    });
    child.stdin?.on('error', () => undefined);
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (code, signal) => {
        done = true;
        resolve({ code, signal });
      });
      child.on('error', () => {
        done = true;
        resolve({ code: -1, signal: null });
      });
    });
    const killGroup = (signal: NodeJS.Signals) => {
      if (done || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    const stop = async (graceMs = 2000) => {
      if (done) return;
      if (options.cleansUpOnStdinEof && child.stdin && !child.stdin.destroyed) {
        // Let it undo its own changes first; signals only if it does not end.
        child.stdin.end();
        const t = setTimeout(() => killGroup('SIGTERM'), graceMs);
        const k = setTimeout(() => killGroup('SIGKILL'), graceMs * 2);
        await exited;
        clearTimeout(t);
        clearTimeout(k);
        return;
      }
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    };
    const registration = registerCleanup(`stop ${showArgv(argv)}`, () => stop());
    const lifetime = setTimeout(() => void stop(), options.maxLifetimeMs);
    lifetime.unref();
    void exited.then(() => {
      clearTimeout(lifetime);
      registration.release();
    });
    const stdout = child.stdout ?? Readable.from([]);
    return { argv, pid: child.pid, stdout, stderr: child.stderr!, stdin: child.stdin, exited, stop };
  }
}

function onPath(program: string): boolean {
  const candidates = program.includes('/')
    ? [program]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, program));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let defaultHost: Host | undefined;
export function localHost(): Host {
  defaultHost ??= new LocalHost();
  return defaultHost;
}
