import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOPDUMP, host, type RunningLab } from './lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningServe {
  dir: string;
  mon: string;
  token: string;
  base: string;
  /** curl inside the namespace: status and body. */
  curl: (args: string[]) => Promise<{ status: number; body: string }>;
}

/**
 * `hopdump serve --listen 0.0.0.0:17292 --token-file ...` for the lab's hypervisor, probes from
 * its client, in a namespace of the test's own (`mon`: only a loopback); stopped and cleaned up
 * after fn, with the namespace.
 */
export async function withServe<T>(lab: RunningLab, fn: (s: RunningServe) => Promise<T>): Promise<T> {
  const mon = lab.ns('mon');
  const dir = mkdtempSync(join(tmpdir(), 'hd-serve-'));
  const token = 'serve-token-0123456789abcdef';
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  await host.run(['ip', 'netns', 'add', mon]);
  await host.run(['ip', 'link', 'set', 'lo', 'up'], { netns: mon });
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      mon,
      HOPDUMP,
      'serve',
      '--listen',
      '0.0.0.0:17292',
      '--token-file',
      join(dir, 'token'),
      '--runs',
      join(dir, 'runs'),
      '--netns',
      lab.state.hypervisor,
      '--from',
      `netns:${lab.ns('client')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  try {
    for (let i = 0; i < 100 && !log.includes('hopdump serve: http://'); i++) await sleep(100);
    return await fn({
      dir,
      mon,
      token,
      base: 'http://127.0.0.1:17292',
      curl: async (args) => {
        const r = await host.run(['curl', '-s', '--max-time', '60', '-o', '-', '-w', '\n%{http_code}', ...args], {
          netns: mon,
          okCodes: 'any',
        });
        const at = r.stdout.lastIndexOf('\n');
        return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
      },
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
    await host.run(['ip', 'netns', 'del', mon], { okCodes: 'any' });
    rmSync(dir, { recursive: true, force: true });
  }
}
