import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOPDUMP, hopdump, host, runProgram, withLab } from '../helpers/lab.js';

/**
 * `hopdump completion bash` sourced in a real bash (plain `complete -F`, no bash-completion), with a
 * TAB simulated: COMP_LINE/COMP_POINT/COMP_WORDS/COMP_CWORD set as readline sets them, the
 * function called, COMPREPLY printed one per line. The line's first word is bin/hopdump, which
 * the script asks for live candidates (`hopdump __complete`).
 */
/** A dollar sign and brace for the shell scripts below (a template literal would read them). */
const D = '$';
const DRIVER = String.raw`
source "$1" || exit 9
complete -p hopdump | grep -q -- '-F _hopdump' || exit 8
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
COMP_LINE=$2
COMP_POINT=${D}{#COMP_LINE}
read -r -a COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${D}{#COMP_WORDS[@]} - 1))
COMPREPLY=()
_hopdump
printf '%s\n' "${D}{COMPREPLY[@]}"
`;

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program]).status === 0;
}

async function tab(script: string, line: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const r = await runProgram('bash', ['-c', DRIVER, 'bash', script, `${HOPDUMP} ${line}`], env);
  assert.equal(r.code, 0, `bash: ${r.stderr}`);
  assert.equal(r.stderr, '', `completion printed on stderr: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

function includesAll(got: string[], want: string[], what: string): void {
  const missing = want.filter((w) => !got.includes(w));
  assert.deepEqual(missing, [], `${what}: missing from ${JSON.stringify(got)}`);
}

const root = process.getuid?.() === 0;

test(
  'bash completion: commands, options, and live --target candidates on a lab',
  { skip: !root && 'needs root (a lab)' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-completion-'));
    try {
      const gen = await hopdump(['completion', 'bash']);
      assert.equal(gen.code, 0, gen.stderr);
      const script = join(dir, 'hopdump.bash');
      writeFileSync(script, gen.stdout);

      assert.deepEqual(await tab(script, 'dia'), ['diagnose']);
      assert.deepEqual(await tab(script, 'read --st'), ['--stats']);
      assert.deepEqual(await tab(script, 'completion '), ['bash', 'zsh', 'fish']);
      assert.deepEqual(await tab(script, 'analyze --order '), ['given', 'auto']);
      assert.ok(!(await tab(script, '')).includes('__complete'), 'the hidden command is not offered');

      await withLab({ topology: 'bridged', prefix: 'mc' }, async (lab) => {
        const hv = lab.state.hypervisor;
        const guests = lab.state.namespaces.filter((n) => n !== hv && n !== lab.state.client);
        assert.ok(guests.length >= 2, `guest namespaces: ${guests.join(' ')}`);
        const hvLinks = (
          JSON.parse((await host.run(['ip', '-j', 'link', 'show'], { netns: hv })).stdout) as Array<{ ifname: string }>
        ).map((l) => l.ifname);

        // diagnose --target <TAB>: every lab namespace as netns:NAME, and the root namespace's interfaces.
        const targets = await tab(script, 'diagnose --target ');
        includesAll(targets, [...lab.state.namespaces.map((n) => `netns:${n}`), 'lo'], 'diagnose --target');
        // path takes --target T too; bash replaces only what follows the colon of netns:...
        const prefix = `hd-${lab.state.instance}-`;
        const afterColon = await tab(script, `path --target netns:${prefix}`);
        includesAll(afterColon, guests, 'path --target netns:hd-...');
        assert.ok(
          afterColon.every((c) => c.startsWith(prefix)),
          JSON.stringify(afterColon),
        );
        // Looking from the hypervisor (--netns): its interfaces are the targets, the guests' backends among them.
        includesAll(await tab(script, `diagnose --netns ${hv} --target `), hvLinks, 'diagnose --netns HV --target');
        includesAll(
          await tab(script, `diagnose --target ${hv}/`),
          hvLinks.map((l) => `${hv}/${l}`),
          'NETNS/IF',
        );
        // --netns: plain names; --from: host and netns:NAME.
        includesAll(await tab(script, `discover --netns ${prefix}`), lab.state.namespaces, 'discover --netns');
        includesAll(
          await tab(script, 'diagnose --from '),
          ['host', ...guests.map((g) => `netns:${g}`)],
          'diagnose --from',
        );
        // analyze's --target is an address in capture files: no live candidates.
        assert.deepEqual(await tab(script, 'analyze --target '), []);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('__complete: libvirt domains through virsh (read-only, LIBVIRT_DEFAULT_URI) and containers through the Docker API socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-complete-'));
  const socket = join(dir, 'docker.sock');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([{ Names: ['/web-1'] }, { Names: ['/db'] }, { Names: 7 }]));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const virsh = join(dir, 'virsh');
    writeFileSync(
      virsh,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(join(dir, 'virsh.args'))}\nprintf 'guest-a\\nguest-b\\n\\n'\n`,
    );
    chmodSync(virsh, 0o755);
    const env = {
      ...process.env,
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      LIBVIRT_DEFAULT_URI: 'test:///default',
      DOCKER_HOST: `unix://${socket}`,
    };
    const r = await hopdump(['__complete', 'target', ''], env);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    includesAll(r.stdout.split('\n'), ['guest-a', 'guest-b', 'web-1', 'db'], '__complete target');
    assert.deepEqual(readFileSync(join(dir, 'virsh.args'), 'utf8').split('\n').filter(Boolean), [
      '-q',
      '-r',
      '-c',
      'test:///default',
      'list',
      '--all',
      '--name',
    ]);
    assert.deepEqual(requests, ['GET /containers/json']);
    // Filtered by the word; a session URI is never asked (virsh would start a daemon); --help is a word.
    const g = await hopdump(['__complete', 'target', 'guest-'], { ...env, LIBVIRT_DEFAULT_URI: 'qemu:///session' });
    assert.equal(g.stdout, '');
    const h = await hopdump(['__complete', 'target', '--help'], env);
    assert.equal(h.code, 0);
    assert.equal(h.stdout, '');
    // A socket that does not answer and a virsh that hangs: nothing, quickly, no message.
    writeFileSync(virsh, '#!/bin/sh\nexec sleep 30\n');
    const silent = createNetServer(() => undefined);
    const mute = join(dir, 'mute.sock');
    await new Promise<void>((resolve) => silent.listen(mute, resolve));
    const start = Date.now();
    const slow = await hopdump(['__complete', 'target', 'guest'], { ...env, DOCKER_HOST: `unix://${mute}` });
    silent.close();
    assert.equal(slow.code, 0);
    assert.equal(slow.stdout + slow.stderr, '');
    assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zsh and fish scripts parse (zsh -n, fish -n), and complete commands, options and values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-completion-'));
  try {
    if (onPath('zsh')) {
      const file = join(dir, '_hopdump');
      writeFileSync(file, (await hopdump(['completion', 'zsh'])).stdout);
      const n = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
      assert.equal(n.status, 0, n.stderr);
      // zsh's completion builtins replaced by functions that print what they are given, as zsh would
      // filter them: those that start with the word being completed.
      const stubs = String.raw`
compdef() { :; }
compadd() { while (( $# )) && [[ $1 != -- ]]; do shift; done; shift; print -l -- ${D}{(M)@:#${D}{words[CURRENT]}*}; }
_describe() { local -a a; a=("${D}{(@P)4}"); a=("${D}{a[@]%%:*}"); print -l -- ${D}{(M)a:#${D}{words[CURRENT]}*}; }
_files() { print FILES; }
_message() { :; }
source "$1"
words=("${D}{(@)argv[2,-1]}")
CURRENT=${D}{#words}
_hopdump
`;
      const zsh = (...words: string[]) =>
        spawnSync('zsh', ['-f', '-c', stubs, 'zsh', file, HOPDUMP, ...words], { encoding: 'utf8' }).stdout.trim();
      assert.equal(zsh('dia'), 'diagnose');
      assert.match(zsh('read', '--st'), /^--stats$/m);
      assert.equal(zsh('analyze', '--order', ''), 'given\nauto');
      assert.equal(zsh('read', ''), 'FILES');
      assert.match(zsh('diagnose', '--from', ''), /^host$/m);
    } else t.diagnostic('zsh is not installed: its script is not checked');
    if (onPath('fish')) {
      const file = join(dir, 'hopdump.fish');
      writeFileSync(file, (await hopdump(['completion', 'fish'])).stdout);
      const n = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
      assert.equal(n.status, 0, n.stderr);
      const fish = (line: string) =>
        spawnSync('fish', ['-c', `source $argv[1]; complete -C $argv[2]`, file, `hopdump ${line}`], {
          encoding: 'utf8',
        })
          .stdout.split('\n')
          .map((l) => l.split('\t')[0])
          .filter(Boolean);
      assert.deepEqual(fish('dia'), ['diagnose']);
      assert.deepEqual(fish('read --st'), ['--stats']);
      assert.deepEqual(fish('analyze --order ').sort(), ['auto', 'given']);
      assert.deepEqual(fish('lab ').sort(), ['down', 'list', 'status', 'up']);
    } else t.diagnostic('fish is not installed: its script is not checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
