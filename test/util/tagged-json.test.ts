import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyJsonChanges,
  fromTaggedJson,
  jsonChanges,
  parseTagged,
  stringifyTagged,
  toTaggedJson,
  writeJson,
} from '../../src/util/tagged-json.js';

test('bigints, Maps, Sets, bytes, undefined in arrays and $-keys survive the round trip', () => {
  const value = {
    ts: 1_700_000_000_123_456_789n,
    neg: -5n,
    macs: new Map([['02:00:00:00:00:01', 3]]),
    claims: new Map([['192.0.2.1', new Set(['a', 'b'])]]),
    bytes: new Uint8Array([0, 1, 254, 255]),
    empty: new Uint8Array(0),
    reasons: ['x', undefined, 'y'],
    odd: { $bigint: 'not a tag' },
    nested: [{ a: 1, b: null, c: [true, false] }],
  };
  const back = parseTagged(stringifyTagged(value)) as typeof value;
  assert.deepEqual(back, value);
  assert.equal(typeof back.ts, 'bigint');
  assert.ok(back.macs instanceof Map && back.claims.get('192.0.2.1') instanceof Set);
  assert.ok(back.bytes instanceof Uint8Array);
});

test('an object property that is undefined is left out, as JSON does', () => {
  assert.deepEqual(toTaggedJson({ a: undefined, b: 1 }), { b: 1 });
});

test('values with no JSON form are refused with where they are', () => {
  assert.throws(() => toTaggedJson({ a: [1, NaN] }), /\$\.a\[1\]: NaN has no JSON form/);
  assert.throws(() => toTaggedJson({ when: new Date(0) }), /\$\.when: a Date has no JSON form/);
  assert.throws(() => toTaggedJson({ f: () => 1 }), /\$\.f: a function has no JSON form/);
  assert.throws(() => fromTaggedJson({ $nope: 1 }), /unknown tag \$nope/);
  assert.throws(() => fromTaggedJson({ $bigint: '1.5' }), /not an integer/);
});

test('writeJson: members on their own lines down to a depth, deeper ones on their member line', () => {
  assert.equal(writeJson({ a: { b: [1, 2] }, c: [] }, 1, ''), '{\n "a": {"b":[1,2]},\n "c": []\n}');
  assert.equal(writeJson({ a: { b: [1, 2] } }, 2, ''), '{\n "a": {\n  "b": [1,2]\n }\n}');
  assert.deepEqual(JSON.parse(writeJson({ a: [{ b: 'x' }], n: null }, 4, '')), { a: [{ b: 'x' }], n: null });
});

test('jsonChanges and applyJsonChanges: b from a and the changes; a left as it was', () => {
  const a = { n: [{ x: 1, y: [1, 2] }, { x: 2 }], gone: 1, same: { s: 's' } };
  const b = {
    n: [
      { x: 1, y: [1, 2, 3] },
      { x: 5, z: true },
    ],
    same: { s: 's' },
  };
  const changes = jsonChanges(a, b);
  assert.deepEqual(changes, [
    [
      ['n', 0, 'y'],
      [1, 2, 3],
    ],
    [['n', 1, 'x'], 5],
    [['n', 1, 'z'], true],
    [['gone']],
  ]);
  const copy = structuredClone(a);
  assert.deepEqual(applyJsonChanges(a, changes), b);
  assert.deepEqual(a, copy);
  assert.deepEqual(jsonChanges(a, structuredClone(a)), []);
  assert.deepEqual(applyJsonChanges(1, jsonChanges(1, { x: 1 })), { x: 1 });
});
