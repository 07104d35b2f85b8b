import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpBatch } from '../../src/collect/iproute.js';
import { parseNftRuleset } from '../../src/collect/netfilter.js';

const link = (ifname: string, addr: string) => ({
  ifindex: 2,
  ifname,
  flags: ['UP'],
  mtu: 1500,
  operstate: 'UP',
  addr_info: [{ family: 'inet', local: addr, prefixlen: 24 }],
});

test("a guest's ip -j output: what is not an interface, an address or a route never reaches the model", () => {
  const out = [
    JSON.stringify([
      link('eth0', '192.0.2.11'),
      link('a/b', '192.0.2.12'),
      link('eth1', '$(reboot)'),
      { ifindex: 'x', ifname: 'eth2' },
    ]),
    JSON.stringify([
      { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
      { dst: '192.0.2.0/24', gateway: '; rm -rf /', dev: 'eth0' },
    ]),
    JSON.stringify([
      { dst: '192.0.2.1', dev: 'eth0', lladdr: '52:54:00:00:00:01', state: ['REACHABLE'] },
      { dst: 'not-an-ip', dev: 'eth0' },
    ]),
    JSON.stringify([]),
  ].join('\n');
  const s = parseIpBatch(out);
  assert.deepEqual(
    s.links.map((l) => l.ifname),
    ['eth0', 'eth1'],
  );
  assert.deepEqual(
    s.addrs.get('eth0')?.map((a) => a.local),
    ['192.0.2.11'],
  );
  assert.deepEqual(s.addrs.get('eth1'), [], 'an address that is not one is left out');
  assert.deepEqual(
    s.routes.map((r) => r.dst),
    ['default'],
  );
  assert.deepEqual(
    s.neighbours.map((n) => n.dst),
    ['192.0.2.1'],
  );
  assert.equal(s.rejected, 5);
});

test('malformed nft -j output is said, not read as an empty rule set', () => {
  const errors: string[] = [];
  assert.deepEqual(parseNftRuleset('{"nftables": [ {"chain": ', new Set(), errors), []);
  assert.match(errors[0] ?? '', /nft -j list ruleset: malformed JSON/);
  const errors2: string[] = [];
  assert.deepEqual(
    parseNftRuleset(
      '{"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "handle": "x"}}]}',
      new Set(),
      errors2,
    ),
    [],
  );
  assert.match(errors2[0] ?? '', /not the JSON nft writes/);
  const ok: string[] = [];
  const chains = parseNftRuleset(
    '{"nftables": [{"chain": {"family": "inet", "table": "t", "name": "c", "hook": "input", "policy": "accept"}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 3, "expr": []}}]}',
    new Set(),
    ok,
  );
  assert.deepEqual(ok, []);
  assert.equal(chains[0]?.rules.length, 1);
});
