import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateCapture } from '../../bench/pcap/generate.js';
import { hopdump, HOPDUMP, instanceName, portListening } from '../helpers/lab.js';
import { comparable } from '../helpers/tcpdump-lines.js';

/**
 * The engine against tcpdump on real captures: two namespaces joined by a
 * veth, real traffic (ICMP, fragmented ICMP, ICMPv6, TCP, UDP, ARP),
 * captured by tcpdump in several link types and resolutions and converted
 * by Wireshark's editcap/mergecap into pcapng. Every file tcpdump can read
 * must give the same packet count and timestamps in `hopdump read`.
 */

const inst = instanceName('pc');
const A = `hd-${inst}-a`;
const B = `hd-${inst}-b`;
const dir = mkdtempSync(join(tmpdir(), 'hopdump-tcpdump-'));
const sh = (args: string[]) =>
  execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args]);

function tcpdumpLines(file: string, extra: string[] = []): string[] {
  const out = execFileSync('tcpdump', ['-nn', ...extra, '-r', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 << 20,
  });
  return out.split('\n').filter((l) => l.length > 0);
}

/** tshark's times of day (local, microseconds), shaped like tcpdump's lines. */
function tsharkTimes(file: string): string[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => `${/(\d\d:\d\d:\d\d\.\d{6})/.exec(l)![1]} packet`);
}

const files: Record<string, string> = {};

before(async () => {
  sh(['ip', 'netns', 'add', A]);
  sh(['ip', 'netns', 'add', B]);
  sh(['ip', 'link', 'add', 'a0', 'netns', A, 'type', 'veth', 'peer', 'name', 'b0', 'netns', B]);
  for (const [ns, dev, v4, v6] of [
    [A, 'a0', '192.0.2.1/24', '2001:db8::1/64'],
    [B, 'b0', '192.0.2.2/24', '2001:db8::2/64'],
  ] as const) {
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(ns, ['ip', 'addr', 'add', v4, 'dev', dev]);
    inNs(ns, ['ip', '-6', 'addr', 'add', v6, 'dev', dev, 'nodad']);
    inNs(ns, ['ip', 'link', 'set', dev, 'up']);
  }
  const caps = [
    ['eth-us.pcap', ['-i', 'b0']],
    ['eth-ns.pcap', ['-i', 'b0', '--time-stamp-precision=nano']],
    ['any.pcap', ['-i', 'any']],
    ['any-sll.pcap', ['-i', 'any', '-y', 'LINUX_SLL']],
  ] as const;
  const procs = caps.map(([name, args]) => {
    files[name] = join(dir, name);
    // --immediate-mode: with TPACKET_V3 the last second of traffic would still sit in the kernel's
    // block (up to the 1 s timeout) when SIGINT stops tcpdump, and be lost.
    return spawn(
      'ip',
      ['netns', 'exec', B, 'tcpdump', '-p', '-U', '--immediate-mode', '-n', ...args, '-w', files[name]],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  });
  // Wait until every tcpdump says it is listening.
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          let err = '';
          const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
          p.stderr.on('data', (c: Buffer) => {
            err += c.toString();
            if (err.includes('listening on')) {
              clearTimeout(t);
              resolve();
            }
          });
        }),
    ),
  );
  inNs(A, ['arping', '-c', '2', '-w', '3', '-I', 'a0', '192.0.2.2']);
  inNs(A, ['ping', '-c', '3', '-i', '0.2', '192.0.2.2']);
  inNs(A, ['ping', '-c', '2', '-i', '0.2', '-s', '3000', '192.0.2.2']);
  inNs(A, ['ping', '-6', '-c', '2', '-i', '0.2', '2001:db8::2']);
  inNs(A, ['ping', '-6', '-c', '1', '-s', '3000', '2001:db8::2']);
  const listener = spawn('ip', ['netns', 'exec', B, 'nc', '-l', '192.0.2.2', '8080'], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await portListening(B, 8080);
  execFileSync('ip', ['netns', 'exec', A, 'nc', '-N', '-w', '2', '192.0.2.2', '8080'], {
    input: 'hello\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  inNs(A, ['sh', '-c', 'echo datagram | nc -u -w 1 192.0.2.2 9999 || true']);
  listener.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(
    procs.map((p) => new Promise<void>((resolve) => (p.on('exit', () => resolve()), p.kill('SIGINT')))),
  );
  // Wireshark's tools write what tcpdump cannot: pcapng with several interfaces and link types.
  files['eth.pcapng'] = join(dir, 'eth.pcapng');
  sh(['editcap', '-F', 'pcapng', files['eth-us.pcap']!, files['eth.pcapng']]);
  files['eth-nsec-editcap.pcap'] = join(dir, 'eth-nsec-editcap.pcap');
  sh(['editcap', '-F', 'nsecpcap', files['eth-us.pcap']!, files['eth-nsec-editcap.pcap']]);
  files['merged.pcapng'] = join(dir, 'merged.pcapng');
  sh(['mergecap', '-F', 'pcapng', '-w', files['merged.pcapng'], files['eth-us.pcap']!, files['any.pcap']!]);
  files['generated.pcap'] = join(dir, 'generated.pcap');
  generateCapture(files['generated.pcap'], { packets: 20_000, flows: 500 });
  files['generated.pcapng'] = join(dir, 'generated.pcapng');
  generateCapture(files['generated.pcapng'], { packets: 20_000, flows: 500, format: 'pcapng', snaplen: 96 });
});

after(() => {
  for (const ns of [A, B]) {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('every capture tcpdump can read: the same packet count and the same timestamps', async () => {
  for (const [name, file] of Object.entries(files)) {
    // tcpdump cannot read a pcapng whose interfaces have different link types: tshark can.
    const ref = name === 'merged.pcapng' ? tsharkTimes(file) : tcpdumpLines(file);
    assert.ok(ref.length > 0, `${name}: tcpdump read packets`);
    const stats = await hopdump(['read', '--stats', '--json', file]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as { packets: number }).packets, ref.length, `${name}: packet count`);
    const mine = await hopdump(['read', file]);
    assert.equal(mine.code, 0, mine.stderr);
    const lines = mine.stdout.trim().split('\n');
    assert.equal(lines.length, ref.length, `${name}: one line per packet`);
    // Local time of day with microseconds, as tcpdump prints it.
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ref.map((l) => l.split(' ')[0]),
      `${name}: timestamps`,
    );
  }
});

test('what tcpdump -nn prints for ICMP echo, ARP, TCP (relative numbers, and -S) and UDP, hopdump read prints the same', () => {
  const file = files['eth-us.pcap']!;
  // Up to the first "length N": tcpdump goes on with the payload (HTTP on 8080), hopdump does not.
  const pick = (ls: string[]) =>
    ls
      .filter((l) =>
        /ICMP echo (request|reply), id \d+, seq \d+, length 64$|ARP, (Request|Reply)|ICMP6, echo|Flags \[|UDP, length|udp port \d+ unreachable/.test(
          l,
        ),
      )
      .map(comparable);
  for (const extra of [[], ['-S']]) {
    const ref = pick(tcpdumpLines(file, extra));
    const mine = pick(
      execFileSync(HOPDUMP, ['read', ...extra, file], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    );
    assert.ok(ref.length >= 20, ref.join('\n'));
    assert.ok(ref.filter((l) => l.includes('Flags [')).length >= 6, 'the TCP connection is in the capture');
    assert.deepEqual(mine, ref, extra.join(' '));
  }
  // Relative: the client's first ACK of the handshake acknowledges 1.
  assert.ok(pick(tcpdumpLines(file)).some((l) => /Flags \[\.\], ack 1, win \d+/.test(l)));
  // The same with the link layer (-e) for the ARP and echo lines.
  const refE = tcpdumpLines(files['eth-us.pcap']!, ['-e']).filter((l) =>
    /ICMP echo request, id \d+, seq \d+, length 64$/.test(l),
  );
  const mineE = execFileSync(HOPDUMP, ['read', '-e', files['eth-us.pcap']!], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter((l) => /ICMP echo request, id \d+, seq \d+, length 64$/.test(l));
  assert.deepEqual(mineE, refE);
});

test('the SLL/SLL2 captures of -i any give the same fingerprints as the Ethernet capture of the same packets', async () => {
  const fps = async (f: string) => {
    const r = await hopdump(['read', '--json', f]);
    assert.equal(r.code, 0, r.stderr);
    return (
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { fingerprint: string; proto: string; linkType: string; summary: string })
        // The echoes, sent mid-capture (an ICMP error at the very end may race the captures' stop).
        .filter((p) => p.proto === 'icmp' && /ICMP echo (request|reply)/.test(p.summary))
    );
  };
  const eth = await fps(files['eth-us.pcap']!);
  const sll2 = await fps(files['any.pcap']!);
  const sll = await fps(files['any-sll.pcap']!);
  assert.equal(sll2[0]!.linkType, 'LINUX_SLL2');
  assert.equal(sll[0]!.linkType, 'LINUX_SLL');
  const set = new Set(eth.map((p) => p.fingerprint));
  assert.ok(eth.length >= 6);
  for (const p of [...sll2, ...sll])
    assert.ok(set.has(p.fingerprint), `fingerprint ${p.fingerprint} of -i any also in the Ethernet capture`);
});

test('live: a tcpdump pipe (-w -) read from standard input while packets flow', async () => {
  const td = spawn('ip', ['netns', 'exec', B, 'tcpdump', '-p', '-U', '-n', '-i', 'b0', '-w', '-', 'icmp'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reader = spawn(HOPDUMP, ['read', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  td.stdout.pipe(reader.stdin);
  let out = '';
  reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    td.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  inNs(A, ['ping', '-c', '3', '-i', '0.2', '192.0.2.2']);
  // The lines appear while tcpdump still runs (nothing waits for the end of the stream).
  for (let i = 0; i < 50 && (out.match(/ICMP echo reply/g) ?? []).length < 3; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal((out.match(/ICMP echo request/g) ?? []).length, 3, out);
  const code = new Promise<number>((resolve) => reader.on('exit', (c) => resolve(c ?? -1)));
  td.kill('SIGINT');
  assert.equal(await code, 0);
});

test('read: bad input gives one line naming the problem and exit 3; packets before a bad byte are printed', async () => {
  const missing = await hopdump(['read', join(dir, 'nope.pcap')]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^hopdump read: cannot read .*nope\.pcap: no such file\n$/);
  const whole = execFileSync('cat', [files['eth-us.pcap']!]);
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 7));
  const r = await hopdump(['read', cut]);
  assert.equal(r.code, 3);
  assert.equal(r.stdout.trim().split('\n').length, tcpdumpLines(files['eth-us.pcap']!).length - 1);
  assert.match(r.stderr, /^hopdump read: .*cut\.pcap: truncated record \(\d+ of \d+ bytes\) at byte \d+\n$/);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a capture at all');
  const bad = await hopdump(['read', text]);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /not a pcap or pcapng file \(magic 0x6e6f7420\) at byte 0/);
  assert.equal((await hopdump(['read'])).code, 2);
  assert.equal((await hopdump(['read', '-', '-'])).code, 2);
  assert.equal((await hopdump(['read', '-c', 'x', text])).code, 2);
});

test('read: several files, -c, --json fields and --stats totals', async () => {
  const two = await hopdump(['read', '-c', '3', files['eth-us.pcap']!]);
  assert.equal(two.stdout.trim().split('\n').length, 3);
  const several = await hopdump(['read', '--stats', '--json', files['eth-us.pcap']!, files['generated.pcap']!]);
  const j = JSON.parse(several.stdout) as {
    packets: number;
    files: Array<{ packets: number }>;
    protocols: Record<string, number>;
    distinctFingerprints: number;
    first: string;
    last: string;
  };
  assert.equal(j.files.length, 2);
  assert.equal(j.packets, j.files[0]!.packets + j.files[1]!.packets);
  assert.equal(j.files[1]!.packets, 20_000);
  assert.ok(
    j.protocols.tcp! > 0 && j.protocols.udp! > 0 && j.protocols.icmp! > 0 && j.protocols.arp! > 0,
    JSON.stringify(j.protocols),
  );
  assert.ok(j.distinctFingerprints > 19_000 && j.distinctFingerprints <= j.packets);
  assert.match(j.first, /^\d+\.\d{9}$/);
  const line = (await hopdump(['read', '--json', '-c', '1', files['generated.pcap']!])).stdout;
  const p = JSON.parse(line) as Record<string, unknown>;
  for (const k of [
    'n',
    'ts',
    'linkType',
    'length',
    'caplen',
    'eth',
    'proto',
    'fingerprint',
    'natFingerprint',
    'summary',
  ])
    assert.ok(k in p, `--json has ${k}`);
  const text = await hopdump(['read', '--stats', files['generated.pcapng']!]);
  assert.match(text.stdout, /^packets: +20000$/m);
  assert.match(text.stdout, /^fingerprints: +\d+ distinct$/m);
});
