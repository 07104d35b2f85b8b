import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unknownLocated } from '../../src/checks/unknown.js';

test('the located fallback never says "between nowhere and": a loss no hop saw is said so', async () => {
  const loss = {
    direction: 'to-target' as const,
    lastSeenHop: null,
    firstMissingHop: { netns: 'hv', ifname: 'eth0', role: 'uplink' as const },
  };
  const causes = await unknownLocated.run({
    correlation: { loss, segments: [] },
    targetAddresses: ['192.0.2.11'],
  } as never);
  const text = JSON.stringify(causes);
  assert.doesNotMatch(text, /nowhere/);
  assert.match(causes[0]!.summary, /packets to 192\.0\.2\.11 were seen at no hop, from hv\/eth0 on/);
});
