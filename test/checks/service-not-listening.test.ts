import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceNotListening } from '../../src/checks/service-not-listening.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { HopPacket } from '../../src/model/packet.js';
import type { Cause, ProbeReport } from '../../src/model/report.js';

const rst = (tcpFlags: string): HopPacket => ({
  hop: 1,
  tsNs: 1n,
  fp: tcpFlags,
  natFp: tcpFlags,
  kind: 'ipv4',
  length: 54,
  data: new Uint8Array(0),
  summary: '',
  linkType: 1,
  src: '192.0.2.11',
  dst: '192.0.2.100',
  proto: 'tcp',
  srcPort: 80,
  dstPort: 40000,
  tcpFlags,
});
const probe = (outcome: ProbeReport['outcome']): ProbeReport => ({
  kind: 'tcp',
  address: '192.0.2.11',
  port: 80,
  command: 'nc -z 192.0.2.11 80',
  from: 'client',
  sent: 3,
  answered: outcome === 'answered' ? 3 : 0,
  outcome,
  detail: '',
});
const ctx = (rsts: HopPacket[], probes: ProbeReport[]) =>
  ({
    correlation: { target: { rstFromTarget: rsts } },
    path: {
      target: { netns: 'vm1' },
      hops: [
        { netns: 'hv', ifname: 'eth0' },
        { netns: 'vm1', ifname: 'eth0' },
      ],
    },
    topology: { namespaces: [] },
    targetAddresses: ['192.0.2.11'],
    probes,
  }) as unknown as CheckContext;

test('service-not-listening: RST+ACK to refused connections is the cause', () => {
  const causes = serviceNotListening.run(ctx([rst('R.')], [probe('refused')])) as Cause[];
  assert.equal(causes.length, 1);
  assert.match(causes[0]!.summary, /port 80 with RST/);
});

test('service-not-listening: a bare RST (late segment of a closed connection) is not', () => {
  assert.deepEqual(serviceNotListening.run(ctx([rst('R')], [probe('refused')])), []);
});

test('service-not-listening: no cause when every connection to the port was answered', () => {
  assert.deepEqual(serviceNotListening.run(ctx([rst('R.')], [probe('answered')])), []);
});

test('service-not-listening over IPv6: an IPv4-only listener on the port is named as such', () => {
  const r6: HopPacket = { ...rst('R.'), kind: 'ipv6', src: '2001:db8::11', dst: '2001:db8::100' };
  const c = {
    ...ctx([r6], [{ ...probe('refused'), address: '2001:db8::11' }]),
    targetAddresses: ['2001:db8::11', '192.0.2.11'],
    topology: {
      namespaces: [{ id: 'vm1', listeners: [{ family: 'inet', address: '0.0.0.0', port: 80, acceptQueue: 0 }] }],
    },
  } as unknown as CheckContext;
  const causes = serviceNotListening.run(c) as Cause[];
  assert.equal(causes.length, 1);
  assert.ok(
    causes[0]!.evidence.some((e) =>
      /listens on 0\.0\.0\.0:80 only, which does not take connections to 2001:db8::11/.test(e),
    ),
    causes[0]!.evidence.join('\n'),
  );
});
