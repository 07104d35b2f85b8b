import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULTS, findTopology } from '../../src/lab/lab.js';
import { ReportSchema } from '../../src/report/schema.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { withLab } from '../helpers/lab.js';
import { EXPECT, shortHop } from './expectations.js';

describe('sg subset', { concurrency: 3 }, () => {
  for (const fault of FAULTS.filter((f) => (process.env['SG_FAULTS'] ?? '').split(',').includes(f.name))) {
    test(`${fault.name}: the right loss segment and top cause`, async () => {
      const want = EXPECT[fault.name];
      assert.ok(want, `no diagnose expectation written for fault ${fault.name}`);
      await withLab({ topology: fault.topology, fault: fault.name, prefix: 'sg' }, async (lab) => {
        const target = findTopology(fault.topology).targets.find((t) => t.name === fault.target)!;
        const { report } = await diagnoseLab(lab, target.address, { probes: want.probes ?? [], ...(want.size ? { size: want.size } : {}) });
        ReportSchema.parse(report);
        const got = report.loss
          ? { direction: report.loss.direction, last: shortHop(report.loss.lastSeenHop, fault.topology), missing: shortHop(report.loss.firstMissingHop, fault.topology) }
          : null;
        const story = `${report.status} loss=${JSON.stringify(got)} causes=${report.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',')}`;
        assert.deepEqual(got, want.loss, story);
        assert.equal(report.causes[0]?.id, want.top, story);
        assert.ok([want.status].flat().includes(report.status), story);
        assert.ok(report.causes[0]!.evidence.length > 0 && report.causes[0]!.fix.length > 0, 'the top cause has evidence and a fix');
      });
    });
  }
});

