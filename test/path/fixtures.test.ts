import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootNamespace } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { resolveTarget } from '../../src/path/resolve.js';
import { findUplink } from '../../src/path/uplink.js';
import { fixtureNames, loadFixture } from '../helpers/fixtures.js';

/**
 * The diagnose fixtures recorded from the lab (test/fixtures/diagnose/, `make fixtures`), replayed
 * without root: on the topology diagnose read, resolveTarget finds the target it found and findPath
 * the hops it captured on (the backend it followed for a silent guest given again).
 */
const names = fixtureNames();

test('there are recorded diagnose fixtures (make fixtures)', () => {
  assert.ok(names.length > 0, 'no test/fixtures/diagnose/*.json');
});

const hopsOf = (p: { hops: Array<{ netns: string; ifname: string; role: string }> }) =>
  p.hops.map((h) => `${h.netns}/${h.ifname} ${h.role}`);

describe('path on recorded topologies', () => {
  for (const name of names) {
    test(`${name}: the target and the path diagnose followed`, () => {
      const f = loadFixture(name);
      const { topology, path } = f.context;
      const uplink = findUplink(rootNamespace(topology), f.query.uplink);
      const resolved = resolveTarget(topology, f.query.target, { uplink });
      assert.equal(resolved.type, path.target.type);
      if (!f.query.backend) {
        assert.deepEqual(
          [resolved.ns.id, resolved.iface.ifname, resolved.address],
          [path.target.netns, path.target.ifname, path.target.address],
        );
      }
      const again = findPath(topology, f.query.target, {
        ...(f.query.uplink ? { uplink: f.query.uplink } : {}),
        ...(f.query.backend ? { backend: f.query.backend } : {}),
      });
      assert.deepEqual(hopsOf(again), hopsOf(path));
      assert.equal(again.complete, path.complete);
      assert.deepEqual(again.target, path.target);
    });
  }
});
