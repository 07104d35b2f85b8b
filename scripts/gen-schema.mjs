#!/usr/bin/env node
// Writes schema/*.schema.json from the zod schemas (run by `make build`).
import { writeFileSync } from 'node:fs';
const root = new URL('..', import.meta.url);
const { reportJsonSchema, topologyJsonSchema } = await import(new URL('dist/src/report/json-schema.js', root).href);
writeFileSync(new URL('schema/report.schema.json', root), `${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
writeFileSync(new URL('schema/topology.schema.json', root), `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`);
