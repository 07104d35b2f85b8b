import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPLAINS, rankCauses } from '../../src/checks/rank.js';
import type { Path } from '../../src/model/path.js';
import type { Cause, CauseId } from '../../src/model/report.js';

/** Ranking pairs (issue 16 §5): synthetic causes, root-free. */
const cause = (id: CauseId, confidence: number, netns: string, ifname: string): Cause => ({
  id,
  confidence,
  device: { netns, ifname },
  summary: `${id} at ${netns}/${ifname}`,
  evidence: [`${id} evidence`],
  fix: [`# fix ${id}`],
});

const hop = (netns: string, ifname: string) => ({
  netns,
  ifname,
  kind: 'veth',
  role: 'backend',
  seesTransit: true,
  isTarget: false,
  via: 'veth',
  mtu: 1500,
  addresses: [],
});
const path = { hops: [hop('hv', 'eth0'), hop('hv', 'br0'), hop('hv', 'vnet0'), hop('vm1', 'eth0')] } as unknown as Path;

for (const root of ['link-down', 'bridge-port-missing', 'stp-blocking', 'guest-nic-down'] as const) {
  test(`${root} explains device-drops on the bridge beside it: the root ranks first`, () => {
    const drops = cause('device-drops', 0.8, 'hv', 'br0');
    const r = cause(root, 0.7, 'hv', 'vnet0');
    const ranked = rankCauses([drops, r], { path });
    assert.deepEqual(
      ranked.map((c) => c.id),
      [root, 'device-drops'],
    );
    assert.ok(drops.confidence < r.confidence);
    assert.match(drops.evidence.at(-1)!, new RegExp(`ranked below ${root} at hv/vnet0`));
  });
}

test('a port without carrier is disabled by the bridge: link-down and guest-nic-down explain stp-blocking beside them', () => {
  for (const root of ['link-down', 'guest-nic-down'] as const) {
    const stp = cause('stp-blocking', 0.95, 'hv', 'vnet0');
    const ranked = rankCauses([stp, cause(root, 0.9, 'vm1', 'eth0')], { path });
    assert.deepEqual(
      ranked.map((c) => c.id),
      [root, 'stp-blocking'],
    );
  }
  // A port put in STP state disabled by hand, its link up, stays stp-blocking.
  assert.equal(
    rankCauses([cause('stp-blocking', 0.95, 'hv', 'vnet0'), cause('device-drops', 0.9, 'hv', 'br0')], { path })[0]!.id,
    'stp-blocking',
  );
});

test('device-drops on the device that is down itself is explained too', () => {
  const ranked = rankCauses([cause('device-drops', 0.9, 'hv', 'vnet0'), cause('link-down', 0.6, 'hv', 'vnet0')], {
    path,
  });
  assert.deepEqual(
    ranked.map((c) => c.id),
    ['link-down', 'device-drops'],
  );
});

test('device-drops far from the port that is down is not explained by it', () => {
  const drops = cause('device-drops', 0.8, 'hv', 'eth0');
  const ranked = rankCauses([drops, cause('link-down', 0.7, 'vm1', 'eth0')], { path });
  assert.deepEqual(
    ranked.map((c) => c.id),
    ['device-drops', 'link-down'],
  );
  assert.equal(drops.confidence, 0.8);
  assert.equal(drops.evidence.length, 1);
});

test('device-drops on a veth peer or the bridge master (no path hop) is beside it by the topology', () => {
  const topology = {
    namespaces: [
      { id: 'hv', interfaces: [{ ifname: 'tap9', master: 'br9', peer: { netns: 'hv', ifindex: 9, ifname: 'tap9p' } }] },
    ],
  } as never;
  const a = rankCauses([cause('device-drops', 0.8, 'hv', 'br9'), cause('bridge-port-missing', 0.5, 'hv', 'tap9')], {
    topology,
  });
  assert.equal(a[0]!.id, 'bridge-port-missing');
  const b = rankCauses([cause('device-drops', 0.8, 'hv', 'tap9p'), cause('link-down', 0.5, 'hv', 'tap9')], {
    topology,
  });
  assert.equal(b[0]!.id, 'link-down');
});

test("a reset from a MAC that is not the target's while another MAC claims the address: ip-conflict first", () => {
  const rst = cause('service-not-listening', 0.9, 'vm1', 'eth0');
  const ranked = rankCauses([rst, cause('ip-conflict', 0.9, 'vm2', 'eth0')], {
    targetMac: '52:54:00:00:00:11',
    rstMacs: ['52:54:00:00:00:12'],
  });
  assert.deepEqual(
    ranked.map((c) => c.id),
    ['ip-conflict', 'service-not-listening'],
  );
  assert.ok(rst.confidence < 0.9);
  // Even when the check gave the RST more confidence than the conflict.
  const again = rankCauses(
    [cause('service-not-listening', 0.95, 'vm1', 'eth0'), cause('ip-conflict', 0.6, 'vm2', 'eth0')],
    {},
  );
  assert.equal(again[0]!.id, 'ip-conflict');
});

test("a reset from the target's own MAC is its own story: service-not-listening keeps its rank", () => {
  const rst = cause('service-not-listening', 0.95, 'vm1', 'eth0');
  const ranked = rankCauses([rst, cause('ip-conflict', 0.9, 'vm2', 'eth0')], {
    targetMac: '52:54:00:00:00:11',
    rstMacs: ['52:54:00:00:00:11'],
  });
  assert.deepEqual(
    ranked.map((c) => c.id),
    ['service-not-listening', 'ip-conflict'],
  );
  assert.equal(rst.confidence, 0.95);
});

test('without a relation, higher confidence first; the table names only known cause ids', () => {
  const ranked = rankCauses([cause('mtu-mismatch', 0.5, 'hv', 'eth0'), cause('firewall-drop', 0.9, 'hv', 'br0')], {
    path,
  });
  assert.deepEqual(
    ranked.map((c) => c.id),
    ['firewall-drop', 'mtu-mismatch'],
  );
  assert.ok(EXPLAINS.every((r) => !r.root.includes(r.symptom)));
});
