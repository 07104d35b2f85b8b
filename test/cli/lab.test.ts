import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULTS, TOPOLOGIES } from '../../src/lab/lab.js';
import { hopdump, instanceName, leftoverNamespaces } from '../helpers/lab.js';

test('lab list names every topology and fault; lab up/status/down from the command line', async () => {
  const list = await hopdump(['lab', 'list']);
  assert.equal(list.code, 0);
  for (const t of TOPOLOGIES) assert.match(list.stdout, new RegExp(`^  ${t.name} `, 'm'));
  for (const f of FAULTS) assert.match(list.stdout, new RegExp(`^  ${f.name}\\s+\\[${f.topology}\\]`, 'm'));
  const name = instanceName('cl');
  try {
    const up = await hopdump(['lab', 'up', 'routed', '--fault', 'no-route', '--name', name]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`lab '${name}' is up: routed with fault no-route`));
    assert.match(up.stdout, /published 198\.51\.100\.1:9200/);
    const status = await hopdump(['lab', 'status', '--json']);
    assert.equal(status.code, 0);
    const mine = (
      JSON.parse(status.stdout) as Array<{ instance: string; targets: Array<{ ping: boolean; tcp: boolean }> }>
    ).find((s) => s.instance === name);
    assert.ok(mine, 'the lab is listed');
    assert.deepEqual(
      mine.targets.map((t) => [t.ping, t.tcp]),
      [[false, false]],
      'the fault shows: the container does not answer',
    );
  } finally {
    const down = await hopdump(['lab', 'down', '--name', name]);
    assert.equal(down.code, 0);
    assert.match(down.stdout, new RegExp(`removed hd-${name}-client hd-${name}-ct1 hd-${name}-hv`));
  }
  assert.deepEqual(leftoverNamespaces(name), []);
});
