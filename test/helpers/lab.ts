import { randomBytes } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { discover } from '../../src/collect/discover.js';
import { localHost } from '../../src/host/local.js';
import { findTopology, labDown, labUp, type LabState } from '../../src/lab/lab.js';
import type { Interface, Namespace, Topology } from '../../src/model/topology.js';

export const host = localHost();
export const HOPDUMP = fileURLToPath(new URL('../../../bin/hopdump', import.meta.url));

/** A short instance name unique to this test run, so lab tests can run side by side. */
export function instanceName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`.slice(0, 16);
}

export interface RunningLab {
  state: LabState;
  ns(role: string): string;
  discover(): Promise<Topology>;
}

/** Brings a lab up, runs fn, and always takes the lab down again. */
export async function withLab<T>(
  options: { topology: string; fault?: string; prefix: string; variant?: number },
  fn: (lab: RunningLab) => Promise<T>,
): Promise<T> {
  const instance = instanceName(options.prefix);
  try {
    const state = await labUp({
      host,
      topology: options.topology,
      instance,
      ...(options.fault ? { fault: options.fault } : {}),
      ...(options.variant !== undefined ? { variant: options.variant } : {}),
    });
    return await fn({
      state,
      ns: (role) => `hd-${instance}-${role}`,
      discover: () => discover({ host, netns: state.hypervisor }),
    });
  } finally {
    await labDown({ host, instance });
  }
}

export function nsOf(t: Topology, id: string): Namespace {
  const ns = t.namespaces.find((n) => n.id === id);
  if (!ns) throw new Error(`namespace ${id} not in topology (have ${t.namespaces.map((n) => n.id).join(', ')})`);
  return ns;
}

export function ifOf(t: Topology, id: string, ifname: string): Interface {
  const iface = nsOf(t, id).interfaces.find((i) => i.ifname === ifname);
  if (!iface) throw new Error(`interface ${id}/${ifname} not found`);
  return iface;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion without blocking other tests; never rejects (2 min, 64 MiB of output by default). */
export function runProgram(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  { timeoutMs = 120_000, maxBuffer = 64 << 20 }: { timeoutMs?: number; maxBuffer?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs bin/hopdump as a child, like an operator would. */
export function hopdump(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runProgram(HOPDUMP, args, env);
}

/** Lab namespaces of one instance that still exist. */
export function leftoverNamespaces(instance: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`hd-${instance}-`));
}

export { findTopology };

/** Resolves once a tcpdump child (stderr piped) says "listening on": readiness, not a guess of time. */
export function tcpdumpListening(child: import('node:child_process').ChildProcess, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), timeoutMs);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`tcpdump ended before listening: ${err}`)));
  });
}

/** Resolves once something listens on TCP port in netns (ss -ltn), polled every 50 ms. */
export async function portListening(netns: string, port: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await host.run(['ss', '-Hltn', `sport = :${port}`], { netns, okCodes: 'any' });
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on ${port} in ${netns} after ${timeoutMs} ms`);
}
