/**
 * `hopdump __complete KIND [WORD [NETNS]]`: the live candidates a completion script asks for at a
 * TAB (hidden: --help does not list it), one per line, those that start with WORD:
 * - `netns`: the named namespaces (/run/netns, read directly);
 * - `from`: `host` and `netns:NAME` for each;
 * - `target`: `netns:NAME` for each, the interfaces of the root namespace (/sys/class/net) or, with
 *   NETNS (the line's --netns), of that one; libvirt's domains (virsh, read-only, ~1 s at most);
 *   running containers (the Docker Engine API on its unix socket: DOCKER_HOST, else the default
 *   and Podman's sockets; ~1 s at most). WORD `NS/...` lists NS's interfaces as NS/IF.
 * Fast (it loads no more than the host's process runner), quiet (errors give no candidates, never a
 * message) and root-free where the source allows it: another namespace's interfaces need root.
 * Nothing is built into a shell string: programs get argv arrays.
 */
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { DOCKER_DEFAULT_SOCKET, isSessionUri, LIBVIRT_SYSTEM_SOCKETS, PODMAN_SOCKET } from '../collect/endpoints.js';
import { localHost, NETNS_RUN_DIR } from '../host/local.js';
import { summaryOf } from './commands.js';
import type { Command } from './command.js';

const LIVE_TIMEOUT_MS = 1000;

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** iproute2's names of namespaces: no dot files, nothing with a slash. */
function namespaces(): string[] {
  return list(NETNS_RUN_DIR).filter((n) => !n.startsWith('.'));
}

async function interfacesIn(netns: string | undefined): Promise<string[]> {
  if (!netns) return list('/sys/class/net');
  const host = localHost();
  // Entering another namespace needs CAP_SYS_ADMIN: as a user, nothing (and no message).
  if (!host.isRoot() || !namespaces().includes(netns)) return [];
  const r = await host.run(['ip', '-j', 'link', 'show'], { netns, timeoutMs: LIVE_TIMEOUT_MS, okCodes: 'any' });
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout) as Array<{ ifname?: unknown }>;
  return links.map((l) => l.ifname).filter((n): n is string => typeof n === 'string');
}

/** libvirt's system sockets, read-write and read-only: qemu:///system is asked only when one is there. */
const LIBVIRT_SOCKETS = LIBVIRT_SYSTEM_SOCKETS.flatMap((s) => [s, `${s}-ro`]);

async function domains(): Promise<string[]> {
  const host = localHost();
  if (!host.hasProgram('virsh')) return [];
  const env = process.env['LIBVIRT_DEFAULT_URI'];
  // Never a session URI: virsh would start a session daemon for it, at a TAB.
  if (env && isSessionUri(env)) return [];
  const uri = env || (LIBVIRT_SOCKETS.some((s) => existsSync(s)) ? 'qemu:///system' : undefined);
  if (!uri) return [];
  const r = await host.run(['virsh', '-q', '-r', '-c', uri, 'list', '--all', '--name'], {
    timeoutMs: LIVE_TIMEOUT_MS,
    okCodes: 'any',
  });
  return r.code === 0
    ? r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
}

/** The Docker Engine API's sockets to ask: DOCKER_HOST's (unix:// only), else the default and Podman's. */
function dockerSockets(): string[] {
  const env = process.env['DOCKER_HOST'];
  if (env) return env.startsWith('unix://') ? [env.slice('unix://'.length)] : [];
  return [DOCKER_DEFAULT_SOCKET, PODMAN_SOCKET].filter((s) => existsSync(s));
}

function containerNames(socketPath: string): Promise<string[]> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/containers/json', timeout: LIVE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const list = JSON.parse(body) as Array<{ Names?: unknown }>;
          resolve(
            list.flatMap((c) =>
              Array.isArray(c.Names)
                ? c.Names.filter((n): n is string => typeof n === 'string').map((n) => n.replace(/^\//, ''))
                : [],
            ),
          );
        } catch {
          resolve([]);
        }
      });
      res.on('error', () => resolve([]));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve([]));
    req.end();
  });
}

async function containers(): Promise<string[]> {
  return (await Promise.all(dockerSockets().map(containerNames))).flat();
}

/** The candidates of one kind, unfiltered; each source that fails gives none. */
export async function candidates(kind: string, word: string, netns: string | undefined): Promise<string[]> {
  const quiet = (p: Promise<string[]>) => p.catch(() => []);
  switch (kind) {
    case 'netns':
      return namespaces();
    case 'from':
      return ['host', ...namespaces().map((n) => `netns:${n}`)];
    case 'target': {
      const slash = word.indexOf('/');
      if (slash > 0 && !word.startsWith('netns:')) {
        const ns = word.slice(0, slash);
        return (await quiet(interfacesIn(ns))).map((i) => `${ns}/${i}`);
      }
      const found = await Promise.all([
        Promise.resolve(namespaces().map((n) => `netns:${n}`)),
        quiet(interfacesIn(netns)),
        quiet(domains()),
        quiet(containers()),
      ]);
      return found.flat();
    }
    default:
      return [];
  }
}

export const completeCommand: Command = {
  name: '__complete',
  summary: summaryOf('__complete'),
  usage: `usage: hopdump __complete target|netns|from [WORD [NETNS]]

What the completion scripts ask for (hopdump completion): the live candidates
of one kind that start with WORD, one per line; NETNS is the line's --netns.
`,
  async run(args, io) {
    const [kind = '', word = '', netns = ''] = args;
    const found = await candidates(kind, word, netns || undefined).catch(() => []);
    // Unique, in order, those that start with the word, none with a line break (one per line).
    const out = [...new Set(found)].filter((c) => c.startsWith(word) && !/[\n\r]/.test(c));
    if (out.length) io.stdout(`${out.join('\n')}\n`);
    return 0;
  },
};
