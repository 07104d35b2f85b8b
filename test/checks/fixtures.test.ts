import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHECKS, runChecks } from '../../src/checks/index.js';
import { FAULTS, TOPOLOGIES } from '../../src/lab/lab.js';
import type { Report } from '../../src/model/report.js';
import { settleVerdict } from '../../src/verdict/settle.js';
import { statusOf } from '../../src/verdict/assemble.js';
import { fixtureNames, loadFixture } from '../helpers/fixtures.js';

/**
 * The diagnose fixtures recorded from the lab (test/fixtures/diagnose/, `make fixtures`), replayed
 * without root: the checks on the context diagnose gave them put the cause it reported first, and
 * the verdict is the one it reported (an ok verdict with no causes).
 */
const names = fixtureNames();

test('every lab topology and fault has a fixture recorded from the lab, and every fixture a topology and fault that exist', () => {
  const want = [...TOPOLOGIES.map((t) => `lab-${t.name}-healthy`), ...FAULTS.map((f) => `lab-${f.topology}-${f.name}`)];
  const have = new Set(names);
  const missing = want.filter((n) => !have.has(n));
  assert.deepEqual(missing, [], `record them (root): node dist/scripts/record-fixtures.js --only=${missing.join(',')}`);
  const known = new Set(want);
  assert.deepEqual(
    names.filter((n) => !known.has(n.replace(/-v\d+$/, ''))),
    [],
    'fixtures of a topology or fault the lab no longer has',
  );
});

const ORDER: Array<Report['status']> = ['ok', 'degraded', 'broken'];
const worst = (a: Report['status'], b: Report['status']) => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

describe('checks on recorded diagnoses', () => {
  for (const name of names) {
    test(`${name}: the status and the top cause diagnose reported`, async () => {
      const f = loadFixture(name);
      const { context: ctx, result } = f;
      const { causes, notices } = await runChecks(ctx);
      assert.deepEqual(
        notices.filter((n) => n.startsWith('check ')),
        [],
        'no check failed',
      );
      const status = worst(statusOf(ctx.probes, ctx.correlation, ctx.passive), f.atLeast ?? 'ok');
      assert.equal(status, result.status);
      const verdict = settleVerdict(status, causes, []);
      const story = `recorded ${result.causes.map((c) => c.id).join(',') || 'none'}, replayed ${verdict.causes.map((c) => `${c.id}:${c.confidence.toFixed(2)}`).join(',') || 'none'}`;
      if (!f.request.promiscTest) assert.equal(verdict.causes[0]?.id, result.causes[0]?.id, story);
      if (status === 'ok') assert.deepEqual(verdict.causes, [], story);
      for (const c of verdict.causes) assert.ok(c.evidence.length > 0, `${c.id} has evidence`);
    });
  }
});

/**
 * Every check of the registry, run on its own: fixtures where it must raise one of its causes
 * and fixtures where it must raise none. A check missing here fails the test below, unless it
 * is an exception, with its reason.
 */
const TABLE: Record<string, { fires: string[]; silent: string[] }> = {
  'upstream-no-traffic': {
    fires: ['lab-bridged-upstream-no-traffic', 'lab-bridged-upstream-no-traffic-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'service-not-listening': {
    fires: [
      'lab-bridged-service-not-listening',
      'lab-bridged-service-not-listening-v1',
      'lab-docker-docker-not-listening',
      'lab-docker-docker-not-listening-v1',
    ],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-docker-docker-dnat-removed',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
    ],
  },
  'guest-arp-unresolved': {
    fires: [
      'lab-bridged-guest-arp-ignore',
      'lab-bridged-guest-arp-ignore-v1',
      'lab-bridged-guest-arp-unresolved',
      'lab-bridged-guest-arp-unresolved-v1',
      'lab-vm-vm-guest-ignores-arp',
    ],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-vm-healthy',
      'lab-vm-vm-guest-firewall',
    ],
  },
  'guest-mac-mismatch': {
    fires: ['lab-vm-vm-guest-mac-mismatch'],
    silent: ['lab-vm-healthy', 'lab-vm-vm-guest-firewall'],
  },
  'guest-no-reply': {
    fires: ['lab-bridged-guest-no-reply', 'lab-bridged-guest-no-reply-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'firewall-drop': {
    fires: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-arp-reply-dropped-v1',
      'lab-bridged-firewall-drop',
      'lab-bridged-firewall-drop-v1',
      'lab-bridged-guest-drops-arp',
      'lab-bridged-guest-drops-arp-v1',
      'lab-bridged-guest-drops-ns',
      'lab-bridged-guest-drops-ns-v1',
      'lab-bridged-guest-firewall',
      'lab-bridged-guest-firewall-v1',
      'lab-bridged-ndp-reply-dropped',
      'lab-bridged-ndp-reply-dropped-v1',
      'lab-chain-chain-firewall-drop',
      'lab-chain-chain-firewall-drop-v1',
      'lab-docker-docker-user-drop',
      'lab-docker-docker-user-drop-v1',
      'lab-vm-vm-guest-firewall',
    ],
    silent: [
      'lab-bridged-bridge-port-missing',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-chain-chain-stp-blocking',
      'lab-chain-healthy',
      'lab-chain-healthy-v1',
      'lab-chain-healthy-v2',
      'lab-docker-docker-dnat-removed',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
      'lab-vm-healthy',
      'lab-vm-vm-guest-mac-mismatch',
    ],
  },
  'link-down': {
    fires: [
      'lab-bridged-link-down',
      'lab-bridged-link-down-v1',
      'lab-ovs-ovs-port-down',
      'lab-ovs-ovs-port-down-v1',
      'lab-vm-vm-guest-nic-down',
    ],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-ovs-healthy',
      'lab-ovs-healthy-v1',
      'lab-ovs-healthy-v2',
      'lab-ovs-ovs-flow-drop',
      'lab-vm-healthy',
      'lab-vm-vm-guest-firewall',
    ],
  },
  'bridge-port-missing': {
    fires: [
      'lab-bridged-bridge-port-missing',
      'lab-bridged-bridge-port-missing-v1',
      'lab-neutron-neutron-patch-peer-missing',
      'lab-neutron-neutron-patch-peer-missing-v1',
      'lab-neutron-neutron-qvo-missing',
      'lab-neutron-neutron-qvo-missing-v1',
      'lab-vm-vm-tap-detached',
    ],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-neutron-healthy',
      'lab-neutron-healthy-v1',
      'lab-neutron-healthy-v2',
      'lab-neutron-neutron-flow-drop',
      'lab-vm-healthy',
      'lab-vm-vm-guest-firewall',
    ],
  },
  'stp-blocking': {
    fires: [
      'lab-bridged-stp-blocking',
      'lab-bridged-stp-blocking-v1',
      'lab-chain-chain-stp-blocking',
      'lab-chain-chain-stp-blocking-v1',
    ],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-chain-chain-firewall-drop',
      'lab-chain-healthy',
      'lab-chain-healthy-v1',
      'lab-chain-healthy-v2',
    ],
  },
  'mac-conflict': {
    fires: ['lab-bridged-mac-conflict', 'lab-bridged-mac-conflict-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'ip-conflict': {
    fires: ['lab-bridged-ip-conflict', 'lab-bridged-ip-conflict-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'mtu-mismatch': {
    fires: ['lab-bridged-mtu-mismatch', 'lab-bridged-mtu-mismatch-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'tc-filter': {
    fires: ['lab-bridged-tc-filter', 'lab-bridged-tc-filter-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'promisc-dependent': {
    fires: [
      'lab-docker-docker-promisc',
      'lab-docker-docker-promisc-v1',
      'lab-routed-promisc-dependent',
      'lab-routed-promisc-dependent-v1',
    ],
    silent: [
      'lab-docker-docker-dnat-removed',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
      'lab-routed-healthy',
      'lab-routed-healthy-v1',
      'lab-routed-healthy-v2',
      'lab-routed-ip-forward-disabled',
    ],
  },
  'ip-forward-disabled': {
    fires: ['lab-routed-ip-forward-disabled', 'lab-routed-ip-forward-disabled-v1'],
    silent: ['lab-routed-healthy', 'lab-routed-healthy-v1', 'lab-routed-healthy-v2', 'lab-routed-nat-missing'],
  },
  'rp-filter-drop': {
    fires: ['lab-routed-rp-filter-drop', 'lab-routed-rp-filter-drop-v1'],
    silent: ['lab-routed-healthy', 'lab-routed-healthy-v1', 'lab-routed-healthy-v2', 'lab-routed-ip-forward-disabled'],
  },
  'nat-missing': {
    fires: [
      'lab-docker-docker-dnat-removed',
      'lab-docker-docker-dnat-removed-v1',
      'lab-routed-nat-missing',
      'lab-routed-nat-missing-v1',
    ],
    silent: [
      'lab-docker-docker-not-listening',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
      'lab-routed-healthy',
      'lab-routed-healthy-v1',
      'lab-routed-healthy-v2',
      'lab-routed-ip-forward-disabled',
    ],
  },
  'no-route': {
    fires: ['lab-routed-no-route', 'lab-routed-no-route-v1'],
    silent: ['lab-routed-healthy', 'lab-routed-healthy-v1', 'lab-routed-healthy-v2', 'lab-routed-ip-forward-disabled'],
  },
  'device-drops': {
    fires: ['lab-bridged-device-drops', 'lab-bridged-device-drops-v1'],
    silent: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
    ],
  },
  'ovs-flow-drop': {
    fires: [
      'lab-neutron-neutron-flow-drop',
      'lab-neutron-neutron-flow-drop-v1',
      'lab-ovs-ovs-flow-drop',
      'lab-ovs-ovs-flow-drop-v1',
    ],
    silent: [
      'lab-neutron-healthy',
      'lab-neutron-healthy-v1',
      'lab-neutron-healthy-v2',
      'lab-neutron-neutron-flow-wrong-port',
      'lab-ovs-healthy',
      'lab-ovs-healthy-v1',
      'lab-ovs-healthy-v2',
      'lab-ovs-ovs-port-down',
    ],
  },
  'ovn-drop': {
    fires: [
      'lab-ovn-ovn-acl-drop',
      'lab-ovn-ovn-acl-drop-v1',
      'lab-ovn-ovn-port-security',
      'lab-ovn-ovn-port-security-v1',
    ],
    silent: ['lab-ovn-healthy', 'lab-ovn-healthy-v1', 'lab-ovn-healthy-v2'],
  },
  'ovs-flow-misdirect': {
    fires: ['lab-neutron-neutron-flow-wrong-port', 'lab-neutron-neutron-flow-wrong-port-v1'],
    silent: [
      'lab-neutron-healthy',
      'lab-neutron-healthy-v1',
      'lab-neutron-healthy-v2',
      'lab-neutron-neutron-flow-drop',
    ],
  },
  'mac-wrong-port': {
    fires: ['lab-neutron-neutron-mac-wrong-port', 'lab-neutron-neutron-mac-wrong-port-v1'],
    silent: [
      'lab-neutron-healthy',
      'lab-neutron-healthy-v1',
      'lab-neutron-healthy-v2',
      'lab-neutron-neutron-flow-drop',
    ],
  },
  'vlan-mismatch': {
    fires: ['lab-neutron-neutron-vlan-mismatch', 'lab-neutron-neutron-vlan-mismatch-v1'],
    silent: [
      'lab-neutron-healthy',
      'lab-neutron-healthy-v1',
      'lab-neutron-healthy-v2',
      'lab-neutron-neutron-flow-drop',
    ],
  },
  'macvlan-isolation': {
    fires: [
      'lab-macvlan-macvlan-host-isolation',
      'lab-macvlan-macvlan-host-isolation-v1',
      'lab-macvlan-macvlan-private',
      'lab-macvlan-macvlan-private-v1',
    ],
    silent: ['lab-macvlan-healthy', 'lab-macvlan-healthy-v1', 'lab-macvlan-healthy-v2'],
  },
  // Drop events are host-wide (other labs' too): it must fire where the fault's own firewall dropped (NETFILTER_DROP).
  'kernel-drops': {
    fires: [
      'lab-bridged-arp-reply-dropped',
      'lab-bridged-firewall-drop',
      'lab-bridged-guest-drops-arp',
      'lab-bridged-guest-drops-ns',
      'lab-bridged-guest-firewall',
      'lab-bridged-ndp-reply-dropped',
      'lab-chain-chain-firewall-drop',
      'lab-docker-docker-user-drop',
    ],
    silent: [
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-bridged-upstream-no-traffic',
      'lab-chain-healthy',
      'lab-chain-healthy-v1',
      'lab-chain-healthy-v2',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
    ],
  },
  // The located fallback, run alone: wherever there is a loss.
  unknown: {
    fires: [
      'lab-bridged-firewall-drop',
      'lab-docker-docker-user-drop',
      'lab-ovn-ovn-acl-drop',
      'lab-ovs-ovs-flow-drop',
      'lab-routed-no-route',
    ],
    silent: [
      'lab-bridged-healthy',
      'lab-bridged-healthy-v1',
      'lab-bridged-healthy-v2',
      'lab-bridged-service-not-listening',
      'lab-docker-docker-not-listening',
      'lab-docker-healthy',
      'lab-docker-healthy-v1',
      'lab-docker-healthy-v2',
      'lab-ovn-healthy',
      'lab-ovn-healthy-v1',
      'lab-ovn-healthy-v2',
      'lab-ovs-healthy',
      'lab-ovs-healthy-v1',
      'lab-ovs-healthy-v2',
      'lab-routed-healthy',
      'lab-routed-healthy-v1',
      'lab-routed-healthy-v2',
    ],
  },
};

/**
 * Checks that no recorded lab fault makes fire (or that fire on every fixture), each with the
 * reason. None today: every check has a lab fault since the QEMU labs are recorded too
 * (guest-mac-mismatch fires only on vm-guest-mac-mismatch).
 */
const EXCEPTIONS: Record<string, { fires?: string; silent?: string }> = {};

/** Decoded once for the table (checks only read their context). */
const decoded = new Map<string, ReturnType<typeof loadFixture>>();
const fired = async (check: (typeof CHECKS)[number], name: string) => {
  if (!decoded.has(name)) decoded.set(name, loadFixture(name));
  const causes = await check.run(decoded.get(name)!.context);
  return causes.filter((c) => check.raises.includes(c.id)).map((c) => c.id);
};

describe('each check fires where it must and only there', () => {
  test('every check of the registry has fixtures where it fires and where it does not (or a stated exception)', () => {
    const missing: string[] = [];
    for (const check of CHECKS) {
      const row = TABLE[check.name];
      const why = EXCEPTIONS[check.name];
      if (!row?.fires.length && !why?.fires) missing.push(`${check.name}: no fixture where it must fire`);
      if (!row?.silent.length && !why?.silent) missing.push(`${check.name}: no fixture where it must stay silent`);
    }
    assert.deepEqual(missing, []);
    const known = new Set(CHECKS.map((c) => c.name));
    assert.deepEqual(
      [...Object.keys(TABLE), ...Object.keys(EXCEPTIONS)].filter((n) => !known.has(n)),
      [],
      'rows name checks of the registry',
    );
    const all = new Set(names);
    assert.deepEqual(
      Object.values(TABLE)
        .flatMap((r) => [...r.fires, ...r.silent])
        .filter((n) => !all.has(n)),
      [],
      'rows name recorded fixtures',
    );
  });
  for (const check of CHECKS) {
    const row = TABLE[check.name];
    if (!row) continue;
    test(`${check.name}: fires on ${row.fires.length}, silent on ${row.silent.length}`, async () => {
      for (const name of row.fires)
        assert.ok(
          (await fired(check, name)).length > 0,
          `${check.name} must raise ${check.raises.join('/')} on ${name}`,
        );
      for (const name of row.silent)
        assert.deepEqual(await fired(check, name), [], `${check.name} must raise nothing on ${name}`);
    });
  }
});
