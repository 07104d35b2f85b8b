import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalIpv6, isMac, parseIp, prefixContains } from '../../src/model/ip.js';

test('parseIp reads IPv4 and the IPv6 forms iproute2 prints', () => {
  assert.equal(parseIp('192.0.2.1')?.value, 0xc0000201n);
  assert.equal(parseIp('::')?.value, 0n);
  assert.equal(parseIp('2001:db8::1')?.value, (0x20010db8n << 96n) | 1n);
  assert.equal(parseIp('::ffff:192.0.2.1')?.value, (0xffffn << 32n) | 0xc0000201n);
  assert.equal(parseIp('fe80::1%eth0'), undefined);
  assert.equal(parseIp('300.1.1.1'), undefined);
});

test('prefixContains: longest-prefix building block', () => {
  assert.deepEqual(prefixContains('192.0.2.0/24', '192.0.2.77'), { contains: true, length: 24 });
  assert.equal(prefixContains('192.0.2.0/24', '198.51.100.1').contains, false);
  assert.deepEqual(prefixContains('default', '203.0.113.9'), { contains: true, length: 0 });
  assert.equal(prefixContains('198.51.100.96/28', '198.51.100.100').contains, true);
  assert.equal(prefixContains('198.51.100.96/28', '198.51.100.112').contains, false);
  assert.equal(prefixContains('2001:db8::/64', '2001:db8::12').contains, true);
  assert.equal(prefixContains('2001:db8::/64', '192.0.2.1').contains, false, 'families never match');
  assert.equal(prefixContains('192.0.2.11/32', '192.0.2.11').length, 32);
});

test('every IPv4 address is inside its own /n for every n', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, n) => {
      const v = parseIp(ip)!.value;
      const net = n === 0 ? 0n : (v >> BigInt(32 - n)) << BigInt(32 - n);
      const text = [24n, 16n, 8n, 0n].map((s) => String((net >> s) & 255n)).join('.');
      return prefixContains(`${text}/${n}`, ip).contains;
    }),
  );
});

test('isMac', () => {
  assert.equal(isMac('52:54:00:00:00:11'), true);
  assert.equal(isMac('52:54:00:00:00'), false);
  assert.equal(isMac('vnet0'), false);
});

test('canonicalIpv6: the form iproute2 prints, so that any spelling of an IPv6 target finds it', () => {
  assert.equal(canonicalIpv6('2001:DB8:0::11'), '2001:db8::11');
  assert.equal(canonicalIpv6('2001:0db8:0000:0000:0000:0000:0000:0011'), '2001:db8::11');
  assert.equal(canonicalIpv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalIpv6('FE80::5054:FF:FE00:11'), 'fe80::5054:ff:fe00:11');
  // Left alone: IPv4, a zone, an embedded IPv4, names.
  for (const x of ['192.0.2.11', 'fe80::1%eth0', '::ffff:192.0.2.1', 'vm1', '52:54:00:00:00:11'])
    assert.equal(canonicalIpv6(x), x);
});
