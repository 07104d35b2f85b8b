import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flowText, outputsOf, parseTrace } from '../../src/capture/ovs-trace.js';
import { ovnTrace } from '../../src/collect/ovn.js';
import { parseDatapathStats, parseFdbShow } from '../../src/collect/ovs.js';
import type { Host } from '../../src/host/host.js';

/** Edge cases of OVS's text outputs (the lab tests read the real ones from a running ovs-vswitchd). */

test('fdb/show: ofport numbers, LOCAL, static entries from fdb/add', () => {
  const text = [
    ' port  VLAN  MAC                Age',
    '    3     1  fa:16:3e:00:00:12   58',
    'LOCAL     0  a6:b9:6c:dd:7d:49   57',
    '    3     1  FA:16:3E:00:00:11  static',
    'garbage',
  ].join('\n');
  assert.deepEqual(parseFdbShow(text), [
    { ofport: 3, vlan: 1, mac: 'fa:16:3e:00:00:12', age: 58 },
    { ofport: 'LOCAL', vlan: 0, mac: 'a6:b9:6c:dd:7d:49', age: 57 },
    { ofport: 3, vlan: 1, mac: 'fa:16:3e:00:00:11', age: 'static' },
  ]);
});

test('dpctl/show and coverage/show: lookups per datapath, drop counters only', () => {
  const dp = [
    'netdev@ovs-netdev:',
    '  lookups: hit:24 missed:14 lost:2',
    '  flows: 4',
    '  port 0: ovs-netdev (tap)',
  ].join('\n');
  const cov = [
    'Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=5d6dbb1c:',
    'drop_action_of_pipeline    0.0/sec     0.100/sec        0.0017/sec   total: 6',
    'datapath_drop_upcall_error   0.0/sec     0.000/sec        0.0000/sec   total: 1',
    'netdev_sent                0.0/sec     0.100/sec        0.0017/sec   total: 60',
  ].join('\n');
  assert.deepEqual(parseDatapathStats(dp, cov), {
    datapaths: [{ name: 'netdev@ovs-netdev', hit: 24, missed: 14, lost: 2 }],
    dropCounters: { drop_action_of_pipeline: 6, datapath_drop_upcall_error: 1 },
  });
});

test('ofproto/trace: rules per bridge across a patch, table miss, datapath actions and outputs', () => {
  const text = [
    'Flow: icmp,in_port=eth0,vlan_tci=0x0000,dl_src=02:00:00:00:00:64,dl_dst=fa:16:3e:00:00:11,nw_src=192.0.2.100,nw_dst=192.0.2.11',
    '',
    'bridge("br-ex")',
    '---------------',
    ' 0. priority 0',
    '    NORMAL',
    '     -> forwarding to learned port',
    '',
    'bridge("br-int")',
    '----------------',
    ' 0. in_port="int-br-ex",vlan_tci=0x0000/0x1fff, priority 3, cookie 0x1',
    '    mod_vlan_vid:1',
    '    resubmit(,60)',
    '60. No match.',
    '    drop',
    '',
    'Final flow: unchanged',
    'Datapath actions: drop',
  ].join('\n');
  const t = parseTrace(text);
  assert.deepEqual(
    t.rules.map((r) => [r.bridge, r.table, r.priority, r.match, r.actions]),
    [
      ['br-ex', 0, 0, '', ['NORMAL', '-> forwarding to learned port']],
      ['br-int', 0, 3, 'in_port="int-br-ex",vlan_tci=0x0000/0x1fff', ['mod_vlan_vid:1', 'resubmit(,60)']],
      ['br-int', 60, undefined, '(no match: table miss)', ['drop']],
    ],
  );
  assert.equal(t.datapathActions, 'drop');
  assert.deepEqual(outputsOf('drop'), []);
  assert.deepEqual(outputsOf('push_vlan(vid=1,pcp=0),br-int,pop_vlan,qvo3f2a9c1e-7b,"odd-name"'), [
    'br-int',
    'qvo3f2a9c1e-7b',
    'odd-name',
  ]);
});

test('the ofproto/trace flow is built from validated fields only', () => {
  const f = {
    proto: 'tcp' as const,
    dlSrc: '02:00:00:00:00:64',
    dlDst: 'fa:16:3e:00:00:11',
    src: '192.0.2.100',
    dst: '192.0.2.11',
    sport: 40000,
    dport: 80,
    vlan: 5,
  };
  assert.equal(
    flowText('eth0', f),
    'tcp,in_port=eth0,dl_vlan=5,dl_src=02:00:00:00:00:64,dl_dst=fa:16:3e:00:00:11,nw_src=192.0.2.100,nw_dst=192.0.2.11,nw_ttl=64,tp_src=40000,tp_dst=80',
  );
  assert.throws(() => flowText('eth0,actions=drop', f));
  assert.throws(() => flowText('eth0', { ...f, src: '192.0.2.100,nw_tos=1' }));
  assert.throws(() => flowText('eth0', { ...f, dlDst: 'ff:ff' }));
});

test('the ofproto/trace flow for IPv6: icmp6/tcp6 with ipv6_src/ipv6_dst, echo request 128; mixed families refused', () => {
  const f = {
    proto: 'icmp' as const,
    dlSrc: '02:00:00:00:00:64',
    dlDst: '52:54:00:00:00:11',
    src: '2001:db8::100',
    dst: '2001:db8::11',
  };
  assert.equal(
    flowText('eth0', f),
    'icmp6,in_port=eth0,dl_src=02:00:00:00:00:64,dl_dst=52:54:00:00:00:11,ipv6_src=2001:db8::100,ipv6_dst=2001:db8::11,nw_ttl=64,icmpv6_type=128,icmpv6_code=0',
  );
  assert.equal(
    flowText('eth0', { ...f, proto: 'tcp', sport: 40000, dport: 80 }),
    'tcp6,in_port=eth0,dl_src=02:00:00:00:00:64,dl_dst=52:54:00:00:00:11,ipv6_src=2001:db8::100,ipv6_dst=2001:db8::11,nw_ttl=64,tp_src=40000,tp_dst=80',
  );
  assert.throws(() => flowText('eth0', { ...f, dst: '192.0.2.11' }));
  assert.throws(() => flowText('eth0', { ...f, proto: 'arp' }));
});

test('ovn-trace is asked for the names as the northbound database has them (Neutron UUIDs are not shortened)', async () => {
  // ovn-trace 23.03 with --no-friendly-names on a Neutron-named switch (by default it prints "c4468b").
  const port = 'c4468bd1-4d12-4b8f-8e57-75364589e7ff';
  const client = '62bb090e-6dde-46b0-9e3b-1613c984fe89';
  const dp = 'ae3ab9bc-277b-4910-a904-f995c27cf61a';
  const text = [
    '# icmp,reg14=0x1,vlan_tci=0x0000,dl_src=02:00:00:00:00:64,dl_dst=fa:16:3e:fb:ff:f3,nw_src=203.0.113.100,nw_dst=203.0.113.11',
    '',
    `ingress(dp="${dp}", inport="${client}")`,
    '-----',
    ' 0. ls_in_check_port_sec (northd.c:8432): 1, priority 50, uuid 09ad73af',
    '    reg0[15] = check_in_port_sec();',
    '    next;',
    '25. ls_in_l2_lkup (northd.c:9122): eth.dst == fa:16:3e:fb:ff:f3, priority 50, uuid 29be2c9a',
    `    outport = "${port}";`,
    '    output;',
    '',
    `egress(dp="${dp}", inport="${client}", outport="${port}")`,
    '-----',
    ' 9. ls_out_apply_port_sec (northd.c:5775): reg0[15] == 1, priority 50, uuid cbb46ff3',
    '    drop;',
  ].join('\n');
  const calls: string[][] = [];
  const host = {
    run: (argv: string[]) => {
      calls.push(argv);
      return Promise.resolve({ argv, netns: undefined, stdout: text, stderr: '', code: 0 });
    },
  } as unknown as Host;
  const ls = 'neutron-4e129bbe-296b-423d-8194-b8ec34858213';
  const r = await ovnTrace(host, undefined, 'unix:/x/ovnsb_db.sock', ls, client, {
    proto: 'icmp',
    ethSrc: '02:00:00:00:00:64',
    ethDst: 'fa:16:3e:fb:ff:f3',
    ipSrc: '203.0.113.100',
    ipDst: '203.0.113.11',
  });
  assert.ok(calls[0]!.includes('--no-friendly-names'), calls[0]!.join(' '));
  assert.equal(calls[0]![calls[0]!.length - 2], ls);
  assert.deepEqual([r.verdict, r.outport, r.dropStage?.stage], ['drop', port, 'ls_out_apply_port_sec']);
});
