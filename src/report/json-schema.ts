import { z } from 'zod';
import { TopologySchema } from '../model/topology.js';
import { ReportSchema } from '../model/report.js';

/** The published JSON Schemas, generated from the zod schemas the code uses. */
export function reportJsonSchema(): unknown {
  return {
    $id: 'https://hopdump.invalid/schema/report.schema.json',
    ...z.toJSONSchema(ReportSchema, { io: 'output' }),
  };
}

export function topologyJsonSchema(): unknown {
  return {
    $id: 'https://hopdump.invalid/schema/topology.schema.json',
    ...z.toJSONSchema(TopologySchema, { io: 'output' }),
  };
}
