import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ether, ipv4, ipv6, tcp } from '../helpers/frames.js';
import { pcapFile } from '../helpers/pcap.js';
import { comparable, lineClass, packetLines } from '../helpers/tcpdump-lines.js';

/**
 * `hopdump read` against `tcpdump -nn -r`, with and without -S, on a subset of tcpdump's own test
 * captures (test/fixtures/tcpdump-tests/, README there) and on a capture made here (IPv6
 * connections, equal ports, numbers that wrap, a new connection on a known 4-tuple): every line
 * tcpdump prints as plain TCP, UDP, ICMP echo or Geneve must be the same up to its first
 * `length N` (test/helpers/tcpdump-lines.ts). Needs the tcpdump program (not root); without it the
 * comparison is skipped, and the lines below, taken from tcpdump 4.99.3, are checked alone.
 */

const HOPDUMP = fileURLToPath(new URL('../../../bin/hopdump', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/tcpdump-tests/', import.meta.url));
const ENV = { ...process.env, TZ: 'UTC' };
const tcpdumpVersion = (() => {
  const r = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  return r.error ? undefined : /tcpdump version (\S+)/.exec(r.stdout)?.[1];
})();
const NO_TCPDUMP = tcpdumpVersion
  ? false
  : 'tcpdump is not installed (Debian package tcpdump): the comparison with it is skipped';

const dir = mkdtempSync(join(tmpdir(), 'hopdump-fidelity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function hopdumpLines(file: string, extra: string[] = []): string[] {
  const out = execFileSync(HOPDUMP, ['read', ...extra, file], { encoding: 'latin1', env: ENV, maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l.length > 0);
}

function tcpdumpLines(file: string, extra: string[] = []): string[] {
  const r = spawnSync('tcpdump', ['-nn', ...extra, '-r', file], { encoding: 'latin1', env: ENV, maxBuffer: 64 << 20 });
  return packetLines(r.stdout);
}

/** Compares the selected lines; returns how many were compared. */
function compare(file: string, extra: string[]): number {
  const td = tcpdumpLines(file, extra);
  const hd = hopdumpLines(file, extra);
  const name = `${file.split('/').pop()}${extra.length ? ` ${extra.join(' ')}` : ''}`;
  assert.equal(hd.length, td.length, `${name}: packet count`);
  let n = 0;
  const diffs: string[] = [];
  td.forEach((t, k) => {
    if (!lineClass(t)) return;
    n++;
    if (comparable(hd[k]!) !== comparable(t)) diffs.push(`#${k + 1}\n  tcpdump: ${t}\n  hopdump: ${hd[k]}`);
  });
  assert.deepEqual(diffs, [], `${name}: lines that differ`);
  return n;
}

/** A capture tcpdump's test files lack: IPv6 connections, equal ports, wrap-around, a SYN re-basing. */
function syntheticCapture(): string {
  const frames: Buffer[] = [];
  const seg = (o: {
    v6?: boolean;
    src: string;
    dst: string;
    sport: number;
    dport: number;
    seq: number;
    ack?: number;
    flags: number;
    payload?: number;
    sack?: [number, number];
  }) => {
    const sack = o.sack
      ? [1, 1, 5, 10, ...[o.sack[0], o.sack[1]].flatMap((n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])]
      : undefined;
    const t = tcp({
      sport: o.sport,
      dport: o.dport,
      seq: o.seq >>> 0,
      ack: (o.ack ?? 0) >>> 0,
      flags: o.flags,
      ...(sack ? { options: sack } : {}),
      ...(o.payload ? { payload: Buffer.alloc(o.payload, 0x61) } : {}),
    });
    frames.push(
      o.v6
        ? ether(ipv6({ src: o.src, dst: o.dst, next: 6, payload: t }), { type: 0x86dd })
        : ether(ipv4({ src: o.src, dst: o.dst, proto: 6, payload: t })),
    );
  };
  const S = 0x02;
  const A = 0x10;
  const P = 0x08;
  const F = 0x01;
  // IPv6, the client's ISN near 2^32: relative numbers wrap; a SACK block; FINs.
  const c6 = { v6: true, src: '2001:db8::1', dst: '2001:db8::2', sport: 50000, dport: 443 };
  const s6 = { v6: true, src: '2001:db8::2', dst: '2001:db8::1', sport: 443, dport: 50000 };
  const isn = 0xffffff00;
  seg({ ...c6, seq: isn, flags: S });
  seg({ ...s6, seq: 77, ack: isn + 1, flags: S | A });
  seg({ ...c6, seq: isn + 1, ack: 78, flags: A });
  seg({ ...c6, seq: isn + 1, ack: 78, flags: P | A, payload: 300 });
  seg({ ...c6, seq: isn + 301, ack: 78, flags: P | A, payload: 300 });
  seg({ ...s6, seq: 78, ack: isn + 1, flags: A, sack: [isn + 301, isn + 601] });
  seg({ ...s6, seq: 78, ack: isn + 601, flags: P | A, payload: 10 });
  seg({ ...c6, seq: isn + 601, ack: 88, flags: F | A });
  seg({ ...s6, seq: 88, ack: isn + 602, flags: F | A });
  // Equal ports: the direction by address; seen mid-stream (no SYN).
  const a = { src: '192.0.2.9', dst: '192.0.2.1', sport: 179, dport: 179 };
  const b = { src: '192.0.2.1', dst: '192.0.2.9', sport: 179, dport: 179 };
  seg({ ...a, seq: 1000, ack: 2000, flags: P | A, payload: 19 });
  seg({ ...b, seq: 2000, ack: 1019, flags: P | A, payload: 23 });
  seg({ ...a, seq: 1019, ack: 2023, flags: A });
  // A new connection on the same 4-tuple as the IPv6 one: a new base.
  seg({ ...c6, seq: 5, flags: S });
  seg({ ...s6, seq: 9000, ack: 6, flags: S | A });
  seg({ ...c6, seq: 6, ack: 9001, flags: P | A, payload: 5 });
  // A RST without ACK stays absolute.
  seg({ ...a, seq: 1019, flags: 0x04 });
  const file = join(dir, 'synthetic.pcap');
  writeFileSync(file, pcapFile(frames.map((data, i) => ({ data, sec: 1_700_000_000 + i }))));
  return file;
}

/**
 * TCP segments with random options (every kind tcpdump names, plausible and implausible lengths,
 * MPTCP subtypes), flags, data offsets and cuts, from a fixed seed: tcpdump's option loop, its
 * [len N], [bad opt] and [|tcp] included, is compared on each.
 */
function randomOptionsCapture(packets: number): string {
  let seed = 20261207;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const kinds = [0, 1, 2, 3, 4, 5, 6, 8, 11, 13, 19, 20, 28, 29, 30, 30, 30, 34, 254, 254, 99];
  const lens: Record<number, () => number> = {
    2: () => 4,
    3: () => 3,
    4: () => 2,
    5: () => 2 + 8 * rnd(3),
    6: () => 6,
    8: () => 10,
    11: () => 6,
    13: () => 6,
    19: () => 18,
    20: () => 4,
    28: () => 4,
    29: () => 4 + rnd(8),
    30: () => [3, 4, 8, 10, 12, 16, 18, 20, 22, 24, 28, 30][rnd(12)]!,
    34: () => 2 + rnd(18),
    254: () => 4 + rnd(10),
    99: () => 2 + rnd(6),
  };
  const records = [];
  for (let i = 0; i < packets; i++) {
    const opts: number[] = [];
    for (let k = rnd(6); k > 0; k--) {
      const kind = kinds[rnd(kinds.length)]!;
      if (kind <= 1) {
        opts.push(kind);
        continue;
      }
      const len = rnd(5) === 0 ? rnd(24) : lens[kind]!();
      opts.push(kind, len);
      for (let j = 2; j < len; j++) opts.push(kind === 30 && j === 2 ? (rnd(9) << 4) | rnd(16) : rnd(256));
    }
    while (opts.length % 4) opts.push(rnd(3) ? 0 : 1);
    const t = tcp({
      sport: 1000 + rnd(4),
      dport: 1000 + rnd(4),
      seq: rnd(2 ** 31),
      ack: rnd(2 ** 31),
      flags: rnd(256),
      options: opts.slice(0, 40),
      payload: Buffer.alloc(rnd(3) ? 0 : rnd(50)),
    });
    if (rnd(10) === 0) t[12] = rnd(16) << 4;
    const f = rnd(3) ? ether(ipv4({ proto: 6, payload: t })) : ether(ipv6({ next: 6, payload: t }), { type: 0x86dd });
    // Sometimes cut inside the options (never into the first 20 bytes of TCP).
    const room = f.length - (f[12] === 0x86 ? 54 : 34) - 20;
    const cut = room > 0 && rnd(4) === 0 ? rnd(room) : 0;
    records.push({ data: f.subarray(0, f.length - cut), orig: f.length, sec: 1_700_000_000 + i });
  }
  const file = join(dir, 'random-options.pcap');
  writeFileSync(file, pcapFile(records));
  return file;
}

describe(`hopdump read and tcpdump ${tcpdumpVersion ?? '(missing)'} on tcpdump's test captures`, () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => /\.pcap/.test(f))
    .sort();
  test('the subset is there', () => assert.ok(files.length >= 20, files.join(' ')));
  for (const extra of [[], ['-S']]) {
    test(
      `every plain TCP, UDP, ICMP echo and Geneve line is tcpdump's${extra.length ? ' (-S: absolute numbers)' : ' (relative numbers)'}`,
      {
        skip: NO_TCPDUMP,
      },
      () => {
        const counts = files.map((f) => compare(join(FIXTURES, f), extra));
        const total = counts.reduce((a, b) => a + b, 0);
        assert.ok(total >= 500, `compared ${total} lines`);
        files.forEach((f, i) => assert.ok(counts[i]! > 0, `${f}: no line compared`));
      },
    );
  }
  test('2,000 segments with random TCP options, flags, offsets and cuts, relative and -S', { skip: NO_TCPDUMP }, () => {
    const file = randomOptionsCapture(2000);
    assert.ok(compare(file, []) > 1900);
    assert.ok(compare(file, ['-S']) > 1900);
  });
  test('a capture made here (IPv6, equal ports, wrap-around, re-basing), relative and -S', { skip: NO_TCPDUMP }, () => {
    const file = syntheticCapture();
    assert.equal(compare(file, []), 16);
    assert.equal(compare(file, ['-S']), 16);
  });
});

/**
 * Lines tcpdump 4.99.3 prints for these files (Debian's, built with OpenSSL: md5 says "can't
 * check"), up to the first `length N`: checked without tcpdump, so that relative numbering and
 * option names cannot break unnoticed where tcpdump is missing.
 */
const GOLDEN: Array<[string, number, string[], string]> = [
  ['dns_tcp.pcap', 3, [], 'IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [.], ack 1, win 64240, length 0'],
  [
    'dns_tcp.pcap',
    3,
    ['-S'],
    'IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [.], ack 2043824404, win 64240, length 0',
  ],
  [
    'dns_tcp.pcap',
    4,
    [],
    'IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [P.], seq 1:59, ack 1, win 64240, length 58',
  ],
  [
    'ssh.pcap',
    48,
    [],
    'IP 223.132.53.222.22 > 202.108.87.165.62146: Flags [.], ack 5186, win 340, options [nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,sack 1 {5282:5283}], length 0',
  ],
  [
    'mptcp-v0.pcap',
    1,
    [],
    'IP 10.2.1.2.35961 > 10.1.1.2.22: Flags [S], seq 2912457561, win 14600, options [mss 1460,sackOK,TS val 4294943152 ecr 0,nop,wscale 6,mptcp 12 capable v0 csum {0x9c9eabd1e46a33b2}], length 0',
  ],
  [
    'mptcp-v0.pcap',
    4,
    [],
    'IP 10.1.1.2.22 > 10.2.1.2.35961: Flags [P.], seq 1:42, ack 1, win 447, options [nop,nop,TS val 4294943474 ecr 4294943152,mptcp 8 add-addr v0-ip4 id 1 10.1.2.2,mptcp 20 dss ack 3576348362 seq 3518592144 subseq 1 len 41 csum 0x82f], length 41',
  ],
  [
    'tfo-5c1fa7f9ae91.pcap',
    3,
    [],
    'IP 3.3.3.3.13054 > 9.9.9.9.13047: Flags [S.], seq 4035392501, ack 218476389, win 1400, options [exp-tfo cookie 090909090000,nop,nop], length 0',
  ],
  [
    'accecn_handshake.pcap',
    2,
    [],
    'IP 66.228.43.12.80 > 31.133.146.248.16433: Flags [S.W], seq 2972234643, ack 1948076590, win 65160, options [mss 1460,sackOK,TS val 2783239876 ecr 112147477,exp-acc0,wscale 7], length 0',
  ],
  [
    'bgp-aigp-oobr.pcap',
    1,
    [],
    "IP 172.17.0.0.179 > 172.17.128.3.50651: Flags [.], seq 2419237172:2419302629, ack 1593006533, win 31761, options [md5 shared secret not supplied with -M, can't check - 02f77f975463199362b9fbfb089a2e56,eol], length 65457",
  ],
  [
    'tcp-auth-heapoverflow.pcap',
    1,
    [],
    'IP 48.48.48.48.12336 > 48.48.48.48.12336: Flags [.U], seq 808464432:808476696, ack 808464432, win 12336, urg 12336, options [tcp-ao keyid 48 rnextkeyid 48 mac 0x303030303030 [|tcp]',
  ],
  [
    'geneve-gcp.pcap',
    1,
    [],
    'IP 192.168.100.254.62974 > 192.168.100.3.6081: Geneve, Flags [none], vni 0x0, options [40 bytes]: IP 192.168.100.2.2905 > 192.168.100.1.8080: Flags [none], win 512, length 0',
  ],
];

test('lines tcpdump 4.99.3 prints, without tcpdump: relative numbers, -S, option names, flags, Geneve', () => {
  const read = new Map<string, string[]>();
  for (const [file, n, extra, want] of GOLDEN) {
    const key = `${file} ${extra.join(' ')}`;
    if (!read.has(key)) read.set(key, hopdumpLines(join(FIXTURES, file), extra));
    const line = read.get(key)![n - 1]!;
    assert.equal(comparable(line.replace(/^\S+ /, '')), want, `${file} #${n} ${extra.join(' ')}`);
  }
});
