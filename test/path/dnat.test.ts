import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nftDnatMaps } from '../../src/checks/nat-missing.js';
import { dnatMaps } from '../../src/path/dnat.js';

const DOCKER =
  '-A DOCKER -d 198.51.100.1/32 ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 203.0.113.12:80';

test('dnatMaps matches ports and addresses exactly', () => {
  assert.equal(dnatMaps(DOCKER, { port: 8080 }, ['203.0.113.12']), true);
  assert.equal(dnatMaps(DOCKER, { port: 80 }, ['203.0.113.12']), false, '--dport 8080 is not port 80');
  assert.equal(dnatMaps(DOCKER, { port: 8080 }, ['203.0.113.1']), false, '203.0.113.12 is not 203.0.113.1');
  assert.equal(dnatMaps(DOCKER, { port: 8080 }, []), true);
  assert.equal(
    dnatMaps(
      '-A PREROUTING -p tcp -m multiport --dport 8000:8100 -j DNAT --to-destination 203.0.113.2-203.0.113.9',
      { port: 8080 },
      ['203.0.113.2'],
    ),
    true,
  );
  assert.equal(
    dnatMaps('-A X -p tcp --dport 443 -j DNAT --to-destination [2001:db8::2]:8443', { port: 443 }, ['2001:db8::2']),
    true,
  );
});

test("dnatMaps: a rule for another destination, protocol or negated interface does not map the probe's", () => {
  assert.equal(dnatMaps(DOCKER, { port: 8080, destination: '198.51.100.1', proto: 'tcp' }, ['203.0.113.12']), true);
  assert.equal(dnatMaps(DOCKER, { port: 8080, destination: '198.51.100.7', proto: 'tcp' }, ['203.0.113.12']), false);
  assert.equal(dnatMaps(DOCKER, { port: 8080, destination: '198.51.100.1', proto: 'udp' }, ['203.0.113.12']), false);
  assert.equal(
    dnatMaps(
      '-A X ! -d 127.0.0.0/8 -p tcp --dport 80 -j DNAT --to-destination 192.0.2.5',
      { port: 80, destination: '127.0.0.1' },
      [],
    ),
    false,
  );
  assert.equal(
    dnatMaps(
      '-A X ! -d 127.0.0.0/8 -p tcp --dport 80 -j DNAT --to-destination 192.0.2.5',
      { port: 80, destination: '192.0.2.1' },
      [],
    ),
    true,
  );
});

test('nft dnat rules count only for their port and address', () => {
  const rule = [
    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '198.51.100.1' } },
    { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 9200 } },
    { dnat: { addr: '203.0.113.2', port: 9200 } },
  ];
  assert.equal(nftDnatMaps(rule, { port: 9200, destination: '198.51.100.1' }), true);
  assert.equal(nftDnatMaps(rule, { port: 80, destination: '198.51.100.1' }), false);
  assert.equal(nftDnatMaps(rule, { port: 9200, destination: '198.51.100.9' }), false);
  assert.equal(
    nftDnatMaps(
      [
        { match: { op: '==', left: { payload: { field: 'dport' } }, right: { set: [80, 443] } } },
        { dnat: { addr: 'x' } },
      ],
      { port: 443 },
    ),
    true,
  );
  assert.equal(nftDnatMaps(rule.slice(0, 2), { port: 9200 }), false, 'no dnat statement');
});
