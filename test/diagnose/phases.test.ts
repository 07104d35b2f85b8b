import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnoseLab } from '../helpers/diagnose.js';
import { withLab } from '../helpers/lab.js';

/** The phases a front end shows while a diagnose runs (serve's progress view): each once, in order. */
test('diagnose reports its phases in order: discovering, capturing on N hops, probing, analysing', async () => {
  await withLab({ topology: 'bridged', prefix: 'ph' }, async (lab) => {
    const seen: Array<[string, string]> = [];
    const { report } = await diagnoseLab(lab, '192.0.2.11', {
      probes: ['icmp', 'tcp:80'],
      phase: (p, detail) => seen.push([p, detail]),
    });
    assert.equal(report.status, 'ok');
    assert.deepEqual(
      seen.map(([p]) => p),
      ['discovering', 'capturing', 'probing', 'analysing'],
    );
    assert.equal(seen[1]![1], 'capturing on 3 hops');
    assert.equal(seen[2]![1], 'icmp, tcp:80');
    assert.match(seen[3]![1], /^\d+ packets from 3 hops$/);
  });
});
