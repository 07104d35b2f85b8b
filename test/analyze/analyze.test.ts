import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ReportSchema } from '../../src/model/report.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { hopdump, host, tcpdumpListening, runProgram, withLab } from '../helpers/lab.js';
import { pcapFile } from '../helpers/pcap.js';

const short = (h: { netns: string; ifname: string } | null) => (h ? `${h.netns}/${h.ifname}` : null);

describe('analyze', { concurrency: true }, () => {
  test("diagnose's own capture.pcapng gives the same loss segment, and is a file tshark reads, mode 0600", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-an-'));
    try {
      await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'a' }, async (lab) => {
        const r = await hopdump([
          'diagnose',
          '--netns',
          lab.state.hypervisor,
          '--from',
          `netns:${lab.state.client}`,
          '--target',
          '192.0.2.11',
          '--out',
          dir,
          '--json',
        ]);
        assert.equal(r.code, 1, r.stderr);
        const live = ReportSchema.parse(JSON.parse(r.stdout));
        for (const f of ['report.json', 'report.txt', 'capture.pcapng'])
          assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
        assert.deepEqual(
          ReportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).loss,
          live.loss,
        );
        const tshark = await runProgram('tshark', [
          '-n',
          '-r',
          join(dir, 'capture.pcapng'),
          '-T',
          'fields',
          '-e',
          'frame.interface_name',
          '-e',
          'frame.comment',
        ]);
        assert.equal(tshark.code, 0, tshark.stderr);
        assert.match(tshark.stdout, new RegExp(`${lab.state.hypervisor}/eth0`));
        assert.match(tshark.stdout, /hopdump: last seen here; never reached .*vnet0 \(firewall-drop\)/);
        const offline = await hopdump([
          'analyze',
          '--order',
          'given',
          '--target',
          '192.0.2.11',
          join(dir, 'capture.pcapng'),
          '--json',
        ]);
        assert.equal(offline.code, 1, offline.stderr);
        const a = ReportSchema.parse(JSON.parse(offline.stdout));
        assert.equal(a.mode, 'analyze');
        assert.deepEqual(
          [a.loss?.direction, short(a.loss!.lastSeenHop), short(a.loss!.firstMissingHop)],
          [live.loss?.direction, short(live.loss!.lastSeenHop), short(live.loss!.firstMissingHop)],
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('files captured by hand at three hops, given in the wrong order: order inferred, loss located', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-an-'));
    try {
      await withLab({ topology: 'bridged', fault: 'tc-filter', prefix: 'b' }, async (lab) => {
        const points = [
          { ns: lab.state.hypervisor, ifname: 'eth0', file: join(dir, 'uplink.pcap') },
          { ns: lab.state.hypervisor, ifname: 'vnet0', file: join(dir, 'vnet0.pcap') },
          { ns: lab.ns('vm1'), ifname: 'eth0', file: join(dir, 'guest.pcap') },
        ];
        const dumps = points.map((p) =>
          spawn(
            'ip',
            [
              'netns',
              'exec',
              p.ns,
              'tcpdump',
              '-p',
              '-U',
              '-n',
              '-i',
              p.ifname,
              '-w',
              p.file,
              'host',
              '192.0.2.11',
              'or',
              'arp',
            ],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          ),
        );
        try {
          await Promise.all(dumps.map((d) => tcpdumpListening(d)));
          await host.run(['ping', '-c', '3', '-i', '0.2', '-W', '1', '192.0.2.11'], {
            netns: lab.state.client,
            okCodes: 'any',
          });
          await new Promise((r) => setTimeout(r, 500));
        } finally {
          for (const d of dumps) d.kill('SIGINT');
          await Promise.all(dumps.map((d) => new Promise((r) => d.on('exit', r))));
        }
        const r = await hopdump(['analyze', '--json', points[2]!.file, points[0]!.file, points[1]!.file]);
        assert.equal(r.code, 1, r.stderr);
        const a = ReportSchema.parse(JSON.parse(r.stdout));
        assert.deepEqual(
          a.path.hops.map((h) => h.ifname),
          ['uplink.pcap', 'vnet0.pcap', 'guest.pcap'],
          'order inferred from the evidence',
        );
        assert.equal(a.target.address, '192.0.2.11', 'target inferred from the probes');
        assert.deepEqual(
          [a.loss?.direction, a.loss?.lastSeenHop?.ifname, a.loss?.firstMissingHop?.ifname],
          ['from-target', 'vnet0.pcap', 'uplink.pcap'],
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a truncated or foreign file: one line naming the file and byte offset, exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopdump-an-'));
    try {
      // A record that claims 100 bytes, of which 40 are there.
      writeFileSync(join(dir, 'cut.pcap'), pcapFile([{ data: Buffer.alloc(40), incl: 100, orig: 100 }]));
      writeFileSync(join(dir, 'text.pcap'), 'this is not a capture\n');
      const cut = await hopdump(['analyze', '--target', '192.0.2.11', join(dir, 'cut.pcap')]);
      assert.equal(cut.code, 3);
      assert.match(cut.stderr.trim(), /cut\.pcap: truncated record \(56 of 116 bytes\) at byte 24$/);
      assert.equal(cut.stderr.trim().split('\n').length, 1);
      const text = await hopdump(['analyze', '--target', '192.0.2.11', join(dir, 'text.pcap')]);
      assert.equal(text.code, 3);
      assert.match(text.stderr, /not a pcap or pcapng file .* at byte 0/);
      const missing = await hopdump(['analyze', join(dir, 'nope.pcap')]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /cannot read .*nope\.pcap: no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('readHopPackets decodes a live tcpdump pipe', async () => {
    await withLab({ topology: 'bridged', prefix: 'c' }, async (lab) => {
      const { report } = await diagnoseLab(lab, '192.0.2.12', { probes: ['icmp'], count: 2 });
      assert.equal(report.status, 'ok');
      assert.ok(
        report.traces.some((t) =>
          /IP 192\.0\.2\.100 > 192\.0\.2\.12: ICMP echo request, id \d+, seq \d+, length 64/.test(t.summary),
        ),
        report.traces.map((t) => t.summary).join('\n'),
      );
    });
  });
});
