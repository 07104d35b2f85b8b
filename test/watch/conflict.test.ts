import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, withLab } from '../helpers/lab.js';
import { withWatch } from '../helpers/watch.js';

/**
 * "Up" means answered by the target itself: with another guest holding the target's address and
 * announcing it (the ip-conflict fault), pings are answered, but by the wrong MAC. watch says the
 * target is down, why, and its diagnose names the conflict.
 */
test('watch: replies from another MAC than the target’s do not count; the diagnose names ip-conflict', async () => {
  await withLab({ topology: 'bridged', fault: 'ip-conflict', prefix: 'wc' }, async (lab) => {
    const config = `interval: 1s\ndiagnose: {minInterval: 1m}\ntargets:\n  - {target: 192.0.2.11, name: vm1, netns: ${lab.state.hypervisor}, from: "netns:${lab.ns('client')}"}\n`;
    await withWatch(lab.ns('mon'), config, [], async (w) => {
      await w.until(
        'vm1 down, answered by another MAC, and diagnosed',
        async () => /hopdump_target_cause\{target="vm1",cause="ip-conflict"/.test((await w.get('/metrics')).body),
        60_000,
      );
      assert.match(
        w.log(),
        /vm1 is down \(icmp: answered by ([0-9a-f]{2}:){5}[0-9a-f]{2}, not the target's 52:54:00:00:00:11/,
      );
      assert.match((await w.get('/metrics')).body, /hopdump_target_up\{target="vm1"\} 0/);
      // The run, from the store over HTTP: its summary, report and capture.
      const runs = JSON.parse((await w.get('/runs')).body) as Array<{ id: string; by: string; cause?: { id: string } }>;
      assert.equal(runs.length, 1);
      assert.deepEqual([runs[0]!.by, runs[0]!.cause?.id], ['watch', 'ip-conflict']);
      const report = await w.get(`/runs/${runs[0]!.id}/report.json`);
      assert.equal((JSON.parse(report.body) as { causes: Array<{ id: string }> }).causes[0]?.id, 'ip-conflict');
      const pcap = await host.run(
        ['curl', '-sf', '--max-time', '3', `http://127.0.0.1:17291/runs/${runs[0]!.id}/capture.pcapng`, '-o', '-'],
        { netns: lab.ns('mon') },
      );
      assert.ok(pcap.stdout.startsWith('\n\r\r\n'), 'a pcapng section header block');
      assert.equal((await w.get('/runs/20261207-000000-0000/report.json')).status, 404);
      assert.equal((await w.get('/runs/../../etc/passwd')).status, 404);
    });
  });
});
