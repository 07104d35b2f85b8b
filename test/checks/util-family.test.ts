import assert from 'node:assert/strict';
import { test } from 'node:test';
import { servesFamily } from '../../src/checks/util.js';

test('servesFamily: an IPv4 socket never takes IPv6; an IPv6 socket on :: counts for both (V6ONLY is not in /proc/net/tcp6)', () => {
  const v4any = { family: 'inet' as const, address: '0.0.0.0' };
  const v6any = { family: 'inet6' as const, address: '::' };
  assert.equal(servesFamily(v4any, '192.0.2.11'), true);
  assert.equal(servesFamily(v4any, '2001:db8::11'), false);
  assert.equal(servesFamily(v6any, '2001:db8::11'), true);
  assert.equal(servesFamily(v6any, '192.0.2.11'), true);
  assert.equal(servesFamily({ family: 'inet6', address: '2001:db8::12' }, '2001:db8::11'), false);
  assert.equal(servesFamily({ family: 'inet', address: '192.0.2.11' }, '192.0.2.11'), true);
  assert.equal(servesFamily({ family: 'inet', address: '192.0.2.12' }, '192.0.2.11'), false);
});
