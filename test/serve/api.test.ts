import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withLab } from '../helpers/lab.js';
import { withServe } from '../helpers/serve.js';

/**
 * serve's API on a lab, in a namespace of the test's own: the graph finds the guest by its
 * address; its path; a diagnose started by POST streams its phases in order and ends in a run in
 * the store naming the fault; bound off loopback, no token → 401; a wrong Host, another Origin,
 * or no header cannot start a diagnose.
 */

test('serve API: graph, path, a diagnose with its phases over SSE, the run; the token and same-origin rules', async () => {
  await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'sv' }, async (lab) => {
    await withServe(lab, async ({ curl, token, base }) => {
      const auth = ['-H', `Authorization: Bearer ${token}`];
      assert.equal((await curl([`${base}/api/graph`])).status, 401);
      const graph = await curl([...auth, `${base}/api/graph`]);
      assert.equal(graph.status, 200);
      const g = JSON.parse(graph.body) as { nodes: Array<{ id: string; search: string; target?: string }> };
      const guest = g.nodes.find((n) => n.search.includes('192.0.2.11') && n.target === '192.0.2.11');
      assert.ok(guest, 'the guest is found by its address');
      const path = JSON.parse((await curl([...auth, `${base}/api/path?target=192.0.2.11`])).body) as {
        nodes: string[];
      };
      assert.equal(path.nodes[path.nodes.length - 1], guest.id);

      const post = (extra: string[]) =>
        curl([
          '-X',
          'POST',
          '-H',
          'Content-Type: application/json',
          '--data',
          '{"target":"192.0.2.11"}',
          ...extra,
          `${base}/api/diagnose`,
        ]);
      // Not without the header, not from another origin, not for another Host, not with the token in the URL.
      assert.equal((await post([])).status, 401);
      assert.equal(
        (
          await curl([
            '-X',
            'POST',
            '-H',
            'Content-Type: application/json',
            '--data',
            '{"target":"192.0.2.11"}',
            `${base}/api/diagnose?token=${token}`,
          ])
        ).status,
        403,
      );
      assert.equal((await post([...auth, '-H', 'Origin: http://evil.example'])).status, 403);
      assert.equal((await post([...auth, '-H', 'Host: evil.example'])).status, 421);
      const started = await post([...auth, '-H', 'Origin: http://127.0.0.1:17292']);
      assert.equal(started.status, 202, started.body);
      const { events } = JSON.parse(started.body) as { id: string; events: string };
      // The phases arrive in order, then the run.
      const sse = await curl([...auth, '-N', `${base}${events}`]);
      const got = [...sse.body.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => [m[1], JSON.parse(m[2]!)] as const);
      assert.deepEqual(
        got.filter(([e]) => e === 'phase').map(([, d]) => (d as { phase: string }).phase),
        ['discovering', 'capturing', 'probing', 'analysing'],
      );
      const done = got.find(([e]) => e === 'done')?.[1] as { run: string; status: string; cause: string };
      assert.deepEqual([done.status, done.cause], ['broken', 'firewall-drop']);
      const report = await curl([...auth, `${base}/runs/${done.run}/report.html`]);
      assert.equal(report.status, 200);
      assert.match(report.body, /data-testid="segment-broken"/);
    });
  });
});
