import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { reportJsonSchema, topologyJsonSchema } from '../../src/report/json-schema.js';

const root = new URL('../../../', import.meta.url);

test('the published JSON Schemas are the ones the zod schemas generate (run: make schema)', () => {
  assert.deepEqual(JSON.parse(readFileSync(new URL('schema/report.schema.json', root), 'utf8')), reportJsonSchema());
  assert.deepEqual(JSON.parse(readFileSync(new URL('schema/topology.schema.json', root), 'utf8')), topologyJsonSchema());
});
