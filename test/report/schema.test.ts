import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { reportJsonSchema, topologyJsonSchema } from '../../src/report/json-schema.js';

const root = new URL('../../../', import.meta.url);

test('the published JSON Schemas are the ones the zod schemas generate (run: make schema)', () => {
  assert.deepEqual(JSON.parse(readFileSync(new URL('schema/report.schema.json', root), 'utf8')), reportJsonSchema());
  assert.deepEqual(
    JSON.parse(readFileSync(new URL('schema/topology.schema.json', root), 'utf8')),
    topologyJsonSchema(),
  );
});

import { Ajv2020 } from 'ajv/dist/2020.js';
import { renderReport } from '../../src/report/text.js';
import { diagnoseLab } from '../helpers/diagnose.js';
import { withLab } from '../helpers/lab.js';

test('a real report validates against the published JSON Schema, and renders as text', async () => {
  const schema = JSON.parse(readFileSync(new URL('schema/report.schema.json', root), 'utf8')) as object;
  const validate = new Ajv2020({ strict: false }).compile(schema);
  await withLab({ topology: 'routed', prefix: 's' }, async (lab) => {
    const { report } = await diagnoseLab(lab, '203.0.113.2', { probes: ['icmp', 'tcp:9200@198.51.100.1'], count: 2 });
    const json = JSON.parse(JSON.stringify(report)) as unknown;
    assert.ok(validate(json), JSON.stringify(validate.errors));
    const text = renderReport(report, { color: false });
    assert.ok(!text.includes('\x1b['), 'no colour when not asked');
    assert.match(text, /hopdump diagnose 203\.0\.113\.2 → hd-s[0-9a-f]+-ct1\/eth0: OK/);
    assert.match(text, /packets followed across hops:/);
    assert.match(text, /changed: eth0→docker0: destination 198\.51\.100\.1:9200 NAT-ed to 203\.0\.113\.2:9200/);
    for (const line of text.split('\n')) assert.ok([...line].length <= 160, `too wide: ${line}`);
    // Without the "ajv" step a broken report must fail validation: the check can fail.
    assert.equal(validate({ ...(json as object), status: 'fine' }), false);
  });
});
