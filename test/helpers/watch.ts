import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOPDUMP, host } from './lab.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningWatch {
  dir: string;
  /** What watch wrote on stderr so far. */
  log(): string;
  /** GET on watch's HTTP port from inside its namespace. */
  get(path: string, headers?: string[]): Promise<{ status: number; body: string }>;
  signal(sig: NodeJS.Signals): void;
  exited(): boolean;
  until(what: string, fn: () => Promise<boolean> | boolean, ms: number): Promise<void>;
}

/**
 * hopdump watch in a namespace of the test's own (`mon`: only a loopback), with the config text
 * given; always stopped and cleaned up after fn.
 */
export async function withWatch<T>(
  mon: string,
  config: string,
  args: string[],
  fn: (w: RunningWatch) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hd-watch-'));
  writeFileSync(join(dir, 'watch.yaml'), config);
  await host.run(['ip', 'netns', 'add', mon]);
  await host.run(['ip', 'link', 'set', 'lo', 'up'], { netns: mon });
  let log = '';
  const child = spawn(
    'ip',
    ['netns', 'exec', mon, HOPDUMP, 'watch', '--config', join(dir, 'watch.yaml'), '--runs', join(dir, 'runs'), ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const port = /--listen \S*:(\d+)/.exec(args.join(' '))?.[1] ?? '17291';
  const w: RunningWatch = {
    dir,
    log: () => log,
    async get(path, headers = []) {
      const r = await host.run(
        [
          'curl',
          '-s',
          '--max-time',
          '3',
          '-o',
          '-',
          '-w',
          '\n%{http_code}',
          ...headers,
          `http://127.0.0.1:${port}${path}`,
        ],
        { netns: mon, okCodes: 'any' },
      );
      const at = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
    },
    signal: (sig) => child.kill(sig),
    exited: () => child.exitCode !== null,
    async until(what, fn, ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (await fn()) return;
        await sleep(300);
      }
      assert.fail(`timed out waiting for ${what}\n--- watch's log ---\n${log}`);
    },
  };
  try {
    return await fn(w);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
    await host.run(['ip', 'netns', 'del', mon], { okCodes: 'any' });
    rmSync(dir, { recursive: true, force: true });
  }
}
