import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cause } from '../../src/model/report.js';
import { renderReport } from '../../src/report/text.js';
import { settleVerdict } from '../../src/verdict/settle.js';

/** Issue 16 §6: an ok verdict lists no causes; what checks still found is a notice. */
const promisc: Cause = {
  id: 'promisc-dependent',
  confidence: 0.4,
  device: { netns: 'hv', ifname: 'eth0' },
  summary: 'hv/eth0 is promiscuous (promiscuity 1): what works now may stop when that ends',
  evidence: ['flags 0x1103'],
  fix: ['ip link set eth0 promisc off'],
};

test('status ok: a would-be cause becomes a notice, causes is empty', () => {
  const v = settleVerdict('ok', [promisc, { ...promisc, id: 'unknown' }], ['earlier notice']);
  assert.deepEqual(v.causes, []);
  assert.equal(v.notices[0], 'earlier notice');
  assert.equal(v.notices.length, 2, 'unknown (no explanation of nothing) is dropped');
  assert.match(
    v.notices[1]!,
    /^promisc-dependent at hv\/eth0 \(not a cause: the path works\): hv\/eth0 is promiscuous/,
  );
});

test('status degraded or broken: causes stay causes', () => {
  for (const status of ['degraded', 'broken'] as const) {
    const v = settleVerdict(status, [promisc], []);
    assert.deepEqual(v.causes, [promisc]);
    assert.deepEqual(v.notices, []);
  }
});

test('the text report prints notices and "causes: none" on an ok verdict', () => {
  const v = settleVerdict('ok', [promisc], []);
  const report = {
    schemaVersion: 1,
    tool: { name: 'hopdump', version: 'test' },
    mode: 'diagnose',
    startedAt: '2026-01-01T00:00:00Z',
    target: { query: '192.0.2.11', netns: 'vm1', ifname: 'eth0' },
    path: { hops: [] },
    probes: [],
    hops: [],
    status: 'ok',
    loss: null,
    causes: v.causes,
    instead: [],
    traces: [],
    captureFile: null,
    notices: v.notices,
    timing: { discoverMs: 0, captureStartMs: 0, windowMs: 0, analysisMs: 0, totalMs: 0 },
  } as never;
  const text = renderReport(report);
  assert.match(text, /causes: none/);
  assert.match(text, /notice: promisc-dependent at hv\/eth0 \(not a cause/);
});

test('strings from guests and capture files reach the terminal with their control characters escaped', () => {
  const hostile: Cause = { ...promisc, summary: 'guest says \x1b]0;owned\x07 and \x1b[2J', evidence: ['line\rback'] };
  const report = {
    schemaVersion: 1,
    tool: { name: 'hopdump', version: 'test' },
    mode: 'diagnose',
    startedAt: '2026-01-01T00:00:00Z',
    target: { query: '192.0.2.11', netns: 'vm1', ifname: 'eth0' },
    path: { hops: [] },
    probes: [],
    hops: [],
    status: 'broken',
    loss: null,
    causes: [hostile],
    instead: [],
    traces: [],
    captureFile: null,
    notices: ['\x9b31m'],
    timing: { discoverMs: 0, captureStartMs: 0, windowMs: 0, analysisMs: 0, totalMs: 0 },
  } as never;
  for (const color of [false, true]) {
    const text = renderReport(report, { color });
    assert.match(text, /guest says \\x1b\]0;owned\\x07 and \\x1b\[2J/);
    assert.match(text, /line\\x0dback/);
    // eslint-disable-next-line no-control-regex -- the test looks for raw control characters
    assert.ok(!/\x07|\x9b|\r|\x1b\]|\x1b\[2J/.test(text), 'no raw control sequence from the report');
  }
});
