import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  evenRuns,
  holds,
  parseCpuModel,
  parseFincore,
  parseMemTotal,
  type Machine,
} from '../../bench/pcap/conditions.js';
import { median } from '../../bench/pcap/index.js';
import { parseReplay, type LiveStepResult } from '../../bench/pcap/live-step.js';
import { stepOk, type LiveBench } from '../../bench/pcap/live.js';
import {
  evaluateTargets,
  formatReport,
  type CondFigure,
  type PcapBenchReport,
  type ReadFigure,
} from '../../bench/pcap/targets.js';

test('fincore -b -n -r -o RES,SIZE: the share of each file in the page cache', () => {
  const out = '426536960 471832899 \n0 944026109\n471834624 471832899\n4096 0\n';
  const shares = parseFincore(out);
  assert.equal(shares.length, 4);
  assert.ok(Math.abs(shares[0]! - 0.904) < 0.001);
  assert.equal(shares[1], 0);
  // whole pages: RES can pass the size by less than a page; an empty file counts as resident
  assert.equal(shares[2], 1);
  assert.equal(shares[3], 1);
  assert.throws(() => parseFincore('RES SIZE\n'), /unexpected line/);
  assert.ok(holds('warm', 0.99) && !holds('warm', 0.98));
  assert.ok(holds('cold', 0.01) && !holds('cold', 0.5));
});

test('the machine: CPU model and memory from /proc', () => {
  const cpuinfo =
    'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC   7B13 64-Core Processor\nflags\t: fpu\n';
  assert.equal(parseCpuModel(cpuinfo), 'AMD EPYC 7B13 64-Core Processor');
  assert.equal(parseCpuModel('processor : 0\n'), undefined);
  assert.equal(parseMemTotal('MemTotal:       24683824 kB\nMemFree: 1 kB\n'), 24683824 * 1024);
});

test('tcpreplay statistics', () => {
  const out = [
    'Actual: 50000 packets (23827614 bytes) sent in 1.99 seconds',
    'Rated: 11913973.7 Bps, 95.31 Mbps, 25000.35 pps',
    'Statistics for network device: eth0',
    '\tSuccessful packets:        50000',
    '\tFailed packets:            0',
  ].join('\n');
  assert.deepEqual(parseReplay(out), { sent: 50000, seconds: 1.99, pps: 25000.35, failed: 0 });
  assert.equal(parseReplay('garbage').sent, 0);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  // Each tool goes first in half the runs of a comparison.
  assert.deepEqual([1, 2, 3, 7, 8].map(evenRuns), [2, 2, 4, 8, 8]);
});

function step(read: Array<number | null>, drops: number[], sent = 1000): LiveStepResult {
  let k = 0;
  return {
    stats: read.map((r) => (r === null ? null : { captured: r, droppedByKernel: drops[k++]! })),
    read,
    kept: 0,
    notKept: 0,
    replay: { sent, failed: 0, seconds: 1, pps: sent, endedAtMs: 1000 },
    windowMs: 3000,
    cpuSeconds: 1,
    maxRssMb: 100,
    notices: [],
  };
}

test('a live step is ok with 0 kernel drops and every sent packet read at every captured hop', () => {
  assert.ok(stepOk(step([1000, 1000, null, 1000, 1000], [0, 0, 0, 0])));
  assert.ok(!stepOk(step([1000, 999, null, 1000, 1000], [0, 0, 0, 0])));
  assert.ok(!stepOk(step([1000, 1000, null, 1000, 1000], [0, 1, 0, 0])));
  assert.ok(!stepOk(step([0, 0, null, 0, 0], [0, 0, 0, 0], 0)), 'nothing sent is not a pass');
  assert.ok(!stepOk(undefined));
});

const tool = (seconds: number, rssMb = 10) => ({ seconds, runs: [seconds], rssMb });
const fig = (peer: number, mine: number, residency: number, ok = true, rssMb = 50): CondFigure => ({
  peer: tool(peer, 6),
  hopdump: tool(mine, rssMb),
  ratio: peer / mine,
  residency: { min: residency, max: residency },
  holds: ok,
});

const machine: Machine = { cpu: 'Test CPU', cores: 2, ramGb: 24, kernel: '6.1.0', date: '2026-12-07' };

function report(): Omit<PcapBenchReport, 'targets'> {
  const reads: ReadFigure[] = [
    {
      file: '/d/mix-1m.pcap',
      packets: 1e6,
      bytes: 4.7e8,
      warmTarget: 1.0,
      warm: fig(1.0, 0.9, 1),
      cold: fig(1.0, 1.1, 0),
    },
    {
      file: '/d/mix-10m-snap128.pcap',
      packets: 1e7,
      bytes: 1.2e9,
      warmTarget: 1.5,
      warm: fig(3.0, 2.5, 0.5, false),
      cold: fig(4.0, 3.0, 0),
    },
  ];
  const live: LiveBench = {
    hops: 4,
    seconds: 5,
    timer: 'nano',
    highestOkPps: 50_000,
    steps: [
      {
        totalPps: 50_000,
        streamPps: 12_500,
        packets: 62_500,
        ok: true,
        hopdump: step([62_500, 62_500, null, 62_500, 62_500], [0, 0, 0, 0], 62_500),
      },
      {
        totalPps: 100_000,
        streamPps: 25_000,
        packets: 125_000,
        ok: false,
        hopdump: step([125_000, 120_000, null, 125_000, 125_000], [0, 5000, 0, 0], 125_000),
      },
    ],
  };
  return {
    machine,
    quick: false,
    runs: 3,
    load: { start: 0.5, end: 1.5 },
    seconds: 1200,
    reads,
    match: {
      files: ['/d/hop0-10m.pcap', '/d/hop1-10m.pcap', '/d/hop2-10m.pcap', '/d/hop3-10m.pcap'],
      packets: 4e7,
      bytes: 4.8e9,
      warm: fig(18, 14, 1, true, 107),
      cold: fig(30, 20, 0, true, 107),
      notice: 'all traffic in the files: …',
    },
    live,
  };
}

test('targets: PASS, FAIL, a condition that did not hold, the live rate', () => {
  const rows = evaluateTargets(report());
  const by = (s: string) => rows.find((r) => r.target.startsWith(s))!;
  assert.equal(by('read --stats warm, mix-1m.pcap').status, 'PASS');
  assert.equal(by('read --stats warm, mix-1m.pcap').measured, '1.11×');
  assert.equal(by('read --stats warm, mix-10m-snap128.pcap').status, 'INVALID');
  assert.match(by('read --stats warm, mix-10m-snap128.pcap').measured, /not resident: 50 %/);
  assert.equal(by('read --stats cold, mix-1m.pcap').status, 'FAIL');
  assert.equal(by('read --stats cold, mix-10m-snap128.pcap').status, 'PASS');
  assert.equal(by('analyze 4 × 10m.pcap warm: wall').status, 'PASS');
  assert.equal(by('analyze 4 × 10m.pcap warm: peak RSS').status, 'PASS');
  assert.equal(by('analyze 4 × 10m.pcap cold').status, '—');
  assert.equal(by('live, 4 hops').status, 'FAIL');
  assert.match(by('live, 4 hops').measured, /dropped 0\/5000\/0\/0; read 125000\/120000\/125000\/125000 of 125000/);
  assert.match(by('live: highest').measured, /^50,000 packets\/s$/);
  const { live: _live, match: _match, ...rest } = report();
  const noLive = evaluateTargets(rest);
  assert.equal(noLive.find((r) => r.target.startsWith('live, 4 hops'))!.status, 'NOT MEASURED');
});

test('the report prints Markdown tables with the machine, both conditions and the targets', () => {
  const r = report();
  const text = formatReport({ ...r, targets: evaluateTargets(r) });
  assert.match(text, /^Machine: Test CPU, 2 cores, 24 GB RAM, Linux 6\.1\.0, 2026-12-07;/);
  assert.match(
    text,
    /\| `read --stats` mix-1m\.pcap vs tcpdump \| 1 M \| 470 MB \| 1\.00 \/ 0\.90 s \| 1\.11× \| 1\.00 \/ 1\.10 s \| 0\.91× \|/,
  );
  assert.match(text, /1\.20× \(not resident: 50 %: not counted\)/);
  assert.match(text, /\| 100,000 packets\/s total \(25,000\/s × 4\) \| 125,000 \|/);
  assert.match(text, /\| read --stats cold, mix-1m\.pcap: ≥ 1\.0× tcpdump \| 0\.91× \| \*\*FAIL\*\* \|/);
  // every table row has the same number of cells as its header
  for (const table of text.split('\n\n').filter((b) => b.includes('|---'))) {
    const lines = table.split('\n').filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.split(' | ').length;
    for (const l of lines.slice(2)) assert.equal(cells(l), cells(lines[0]!), l);
  }
});
