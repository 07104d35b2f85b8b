import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReportSchema } from '../../src/model/report.js';
import { ether, icmpEcho, ipv4, tcp, udp } from '../helpers/frames.js';
import { hopdump, runProgram, withLab, type CliResult } from '../helpers/lab.js';

/**
 * The single executable (`make exe`) behaves as bin/hopdump does, on a host without Node: each
 * command below runs the executable in a private mount namespace where every `node` binary is
 * /dev/null, and compares with bin/hopdump (which needs Node) run in the test's own namespace.
 */
const EXE = fileURLToPath(new URL('../../../release/hopdump-linux-x64', import.meta.url));
const EXE_ARM64 = fileURLToPath(new URL('../../../release/hopdump-linux-arm64', import.meta.url));

/** Every node binary the machine has, by its real path (the bind mounts hide the files). */
function nodeBinaries(): string[] {
  const found = new Set<string>([realpathSync(process.execPath)]);
  const which = execFileSync('sh', ['-c', 'which -a node nodejs || true'], { encoding: 'utf8' });
  for (const p of which.split('\n').filter(Boolean)) found.add(realpathSync(p));
  return [...found];
}

// A constant script: the paths to hide, then `--`, then the program and its arguments (argv only).
const HIDE_AND_RUN = 'while [ "$1" != -- ]; do mount --bind /dev/null "$1" || exit 97; shift; done; shift; exec "$@"';

/** The argv that runs `argv` with every node binary hidden (unshare: a mount namespace of its own). */
function hidingNode(argv: string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    HIDE_AND_RUN,
    'sh',
    ...nodeBinaries(),
    '--',
    ...argv,
  ];
}

/** Runs argv with every node binary hidden. */
function withoutNode(argv: string[]): Promise<CliResult> {
  const [file, ...args] = hidingNode(argv);
  return runProgram(file!, args);
}

const exe = (args: string[]) => withoutNode([EXE, ...args]);

/** A capture of every common kind of packet, n records (2 000 make a small file, 150 000 about 70 MB). */
function writeCapture(file: string, n: number): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(262144, 16);
    header.writeUInt32LE(1, 20);
    writeSync(fd, header);
    const body = Buffer.alloc(400, 0x61);
    const chunk: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const kind = i % 4;
      const l4 =
        kind === 0
          ? tcp({ sport: 40000 + (i % 100), dport: 443, seq: 1000 + i * 400, ack: 7, flags: 0x18, payload: body })
          : kind === 1
            ? udp({ sport: 5353, dport: 53, payload: body.subarray(0, 60) })
            : kind === 2
              ? icmpEcho({ id: 7, seq: i & 0xffff })
              : tcp({ sport: 443, dport: 40000 + (i % 100), seq: 7, ack: 1000 + i * 400, flags: 0x10 });
      const proto = kind === 1 ? 17 : kind === 2 ? 1 : 6;
      const frame = ether(
        ipv4({
          src: kind === 3 ? '198.51.100.7' : '192.0.2.10',
          dst: kind === 3 ? '192.0.2.10' : '198.51.100.7',
          id: i & 0xffff,
          proto,
          payload: l4,
        }),
      );
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(1_790_000_000 + Math.floor(i / 1000), 0);
      rec.writeUInt32LE((i % 1000) * 1000, 4);
      rec.writeUInt32LE(frame.length, 8);
      rec.writeUInt32LE(frame.length, 12);
      chunk.push(rec, frame);
      if (chunk.length >= 2000) writeSync(fd, Buffer.concat(chunk.splice(0)));
    }
    if (chunk.length) writeSync(fd, Buffer.concat(chunk));
  } finally {
    closeSync(fd);
  }
}

describe('the single executable, on a host without Node', { concurrency: true }, () => {
  let dir = '';
  let small = '';
  let big = '';
  before(() => {
    assert.ok(existsSync(EXE), `${EXE} is missing: make exe (make test builds it)`);
    dir = mkdtempSync(join(tmpdir(), 'hopdump-exe-'));
    small = join(dir, 'small.pcap');
    big = join(dir, 'big.pcap');
    writeCapture(small, 2000);
    // Long enough (about half a second for the main thread alone) that the worker, which takes
    // 100-300 ms to start on a loaded machine, always comes in time to read chunks of its own: with
    // 150 000 packets the main thread once read all four chunks before it (CI, under load).
    writeCapture(big, 600_000);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('node is really hidden, and the executable still runs: --version as bin/hopdump says it', async () => {
    const node = await withoutNode(['sh', '-c', 'node -e 0']);
    assert.notEqual(node.code, 0, 'node ran where it should be hidden');
    const [a, b] = await Promise.all([exe(['--version']), hopdump(['--version'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^hopdump \d+\.\d+\.\d+\n$/);
  });

  test('read: the same lines and totals as bin/hopdump, one thread and a worker thread', async () => {
    for (const args of [
      ['-e', small],
      ['-S', small],
      ['--stats', '--json', small],
    ]) {
      const [a, b] = await Promise.all([exe(['read', ...args]), hopdump(['read', ...args])]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, b.stdout, `read ${args.join(' ')}`);
    }
    // --threads 2 starts the stats worker: in the executable its code is embedded (eval).
    const [a, b] = await Promise.all([
      exe(['read', '--stats', '--json', '--threads', '2', '--debug', big]),
      hopdump(['read', '--stats', '--json', '--threads', '1', big]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stderr, /[1-9]\d* read by worker threads/, a.stderr);
    assert.doesNotMatch(a.stderr, /read again/);
  });

  test('a malformed capture: the same one-line error and exit code', async () => {
    const cut = join(dir, 'cut.pcap');
    const bytes = readFileSync(small);
    const fd = openSync(cut, 'w', 0o600);
    writeSync(fd, bytes.subarray(0, bytes.length - 100));
    closeSync(fd);
    const [a, b] = await Promise.all([exe(['read', cut]), hopdump(['read', cut])]);
    assert.equal(a.code, 3);
    assert.equal(a.code, b.code);
    assert.equal(a.stderr, b.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  test("watch's TCP agent is the executable itself (__tcp-agent): one answer per request", async () => {
    const r = await runProgram('sh', [
      '-c',
      'printf \'{"id":1,"host":"127.0.0.1","port":9,"timeoutMs":500}\\n\' | "$@"',
      'sh',
      ...hidingNode([EXE, '__tcp-agent']),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout.trim()) as { id: number; ok: boolean; error?: string };
    assert.equal(answer.id, 1);
    assert.equal(answer.ok, false);
    assert.equal(answer.error, 'ECONNREFUSED');
  });

  test('discover, path, diagnose of a lab fault and analyze of its capture, as bin/hopdump', async () => {
    await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'x' }, async (lab) => {
      const hv = lab.state.hypervisor;
      // discover: the same namespaces and interfaces (counters move between the two runs).
      const [da, db] = await Promise.all([
        exe(['discover', '--netns', hv, '--json']),
        hopdump(['discover', '--netns', hv, '--json']),
      ]);
      assert.equal(da.code, 0, da.stderr);
      // Docker's client loads ssh2, whose native add-ons are not inside: no warning about them.
      assert.equal(da.stderr, '');
      const shape = (out: string) =>
        (JSON.parse(out) as { namespaces: Array<{ id: string; interfaces: Array<{ ifname: string }> }> }).namespaces
          .map(
            (n) =>
              `${n.id}: ${n.interfaces
                .map((i) => i.ifname)
                .sort()
                .join(' ')}`,
          )
          .sort();
      assert.deepEqual(shape(da.stdout), shape(db.stdout));
      assert.ok(shape(da.stdout).some((l) => l.includes('vnet0')));

      const [pa, pb] = await Promise.all([
        exe(['path', '--netns', hv, '--target', '192.0.2.11']),
        hopdump(['path', '--netns', hv, '--target', '192.0.2.11']),
      ]);
      assert.equal(pa.code, 0, pa.stderr);
      assert.equal(pa.stdout, pb.stdout);

      const out = join(dir, 'run');
      const d = await exe([
        'diagnose',
        '--netns',
        hv,
        '--from',
        `netns:${lab.state.client}`,
        '--target',
        '192.0.2.11',
        '--out',
        out,
        '--json',
      ]);
      assert.equal(d.code, 1, d.stderr);
      const report = ReportSchema.parse(JSON.parse(d.stdout));
      const short = (h: { netns: string; ifname: string } | null | undefined) => (h ? `${h.netns}/${h.ifname}` : null);
      assert.equal(report.loss?.direction, 'to-target');
      assert.equal(short(report.loss?.lastSeenHop), `${hv}/eth0`);
      assert.equal(short(report.loss?.firstMissingHop), `${hv}/vnet0`);
      assert.equal(report.causes[0]?.id, 'firewall-drop');

      const args = ['analyze', '--order', 'given', '--target', '192.0.2.11', '--json', join(out, 'capture.pcapng')];
      const [aa, ab] = await Promise.all([exe(args), hopdump(args)]);
      assert.equal(aa.code, 1, aa.stderr);
      assert.equal(aa.code, ab.code);
      const a = ReportSchema.parse(JSON.parse(aa.stdout));
      const b = ReportSchema.parse(JSON.parse(ab.stdout));
      assert.deepEqual(a.loss, b.loss);
      assert.deepEqual(
        a.causes.map((c) => c.id),
        b.causes.map((c) => c.id),
      );
      assert.deepEqual(a.hops, b.hops);
    });
  });

  test('analyze on two threads: the decode worker runs from inside the executable', async () => {
    const args = ['analyze', '--order', 'given', '--target', '198.51.100.7', '--json', big, small];
    const [a, b] = await Promise.all([exe([...args, '--threads', '2']), hopdump([...args, '--threads', '1'])]);
    assert.equal(a.code, b.code, a.stderr);
    const ra = ReportSchema.parse(JSON.parse(a.stdout));
    const rb = ReportSchema.parse(JSON.parse(b.stdout));
    assert.deepEqual(ra.hops, rb.hops);
    assert.deepEqual(ra.loss, rb.loss);
  });

  test('the arm64 executable, when built, is an AArch64 ELF with the application inside', () => {
    if (!existsSync(EXE_ARM64)) return;
    const b = readFileSync(EXE_ARM64);
    assert.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(b.readUInt16LE(18), 183, 'e_machine EM_AARCH64');
    // postject flips Node's fuse from :0 to :1 when it injects the application.
    assert.ok(b.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1'), 'the application is injected');
  });
});
