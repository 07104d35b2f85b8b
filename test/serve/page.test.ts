import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { HOPDUMP, withLab } from '../helpers/lab.js';
import { withServe } from '../helpers/serve.js';

/**
 * serve's page in Debian's Chromium, both in a namespace of the test's own: the graph loads, the
 * guest is found by its address, a click highlights its path, "Diagnose" shows the phases in order
 * and then the report in place with the broken segment; the run is listed and opens again.
 */
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

test('serve page: search a guest by address, its path, diagnose with live phases, the report in place', async () => {
  await withLab({ topology: 'bridged', fault: 'firewall-drop', prefix: 'sp' }, async (lab) => {
    await withServe(lab, async ({ dir, mon, token }) => {
      // A watch on the same host (namespace): serve colours the targets it watches by their state.
      writeFileSync(
        join(dir, 'watch.yaml'),
        `interval: 1s\ndiagnose: {enabled: false}\ntargets:\n  - {target: 192.0.2.11, netns: ${lab.state.hypervisor}, from: "netns:${lab.ns('client')}"}\n`,
      );
      const watch = spawn(
        'ip',
        [
          'netns',
          'exec',
          mon,
          HOPDUMP,
          'watch',
          '--config',
          join(dir, 'watch.yaml'),
          '--runs',
          join(dir, 'watch-runs'),
        ],
        {
          stdio: 'ignore',
        },
      );
      // Chromium in the same namespace: playwright talks to it over its stdio pipes.
      const wrapper = join(dir, 'chromium');
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${mon} /usr/bin/chromium "$@"\n`);
      chmodSync(wrapper, 0o755);
      try {
        const browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox'] });
        try {
          const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
          const errors: string[] = [];
          page.on('pageerror', (e) => errors.push(e.message));
          await page.goto(`http://127.0.0.1:17292/?token=${token}`);
          await page.waitForSelector('body[data-graph=ready]', { timeout: 60_000 });
          // The guest is down (the firewall fault): its node is drawn as such, from watch's state.
          await page.waitForFunction(() => /\/eth0/.test(document.body.getAttribute('data-down') ?? ''), undefined, {
            timeout: 40_000,
          });
          await page.getByTestId('search').fill('192.0.2.11');
          const hit = page.getByTestId('search-result').first();
          const node = await hit.getAttribute('data-node');
          assert.match(node ?? '', /\/eth0$/);
          assert.ok(
            (await page.evaluate(() => document.body.getAttribute('data-down') ?? '')).split(' ').includes(node ?? ''),
          );
          await hit.click();
          await page.waitForFunction(
            (id: string) => (document.body.getAttribute('data-path') ?? '').split(' ').includes(id),
            node ?? '',
            { timeout: 60_000 },
          );
          await page.getByTestId('diagnose').click();
          await page.getByTestId('phase-done').waitFor({ timeout: 120_000 });
          const phases = await page
            .getByTestId('progress')
            .locator('li')
            .evaluateAll((lis) => lis.map((l) => l.getAttribute('data-testid')));
          assert.deepEqual(phases, [
            'phase-discovering',
            'phase-capturing',
            'phase-probing',
            'phase-analysing',
            'phase-done',
          ]);
          const frame = page.frameLocator('[data-testid=report-frame]');
          await frame.getByTestId('segment-broken').waitFor({ timeout: 10_000 });
          assert.equal(await frame.getByTestId('cause-0').getAttribute('data-cause'), 'firewall-drop');
          // At the right hop: the iptables rule drops what leaves through vnet0, the first hop that misses it.
          const to = await frame.getByTestId('segment-broken').getAttribute('data-to');
          assert.equal(await frame.getByTestId(`hop-${to}`).locator('text.ifname').textContent(), 'vnet0');
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: join(ARTIFACTS, 'serve.png') });
          // The past run is listed and opens the same way.
          await page.getByTestId('report').evaluate((d) => (d.textContent = ''));
          await page.getByTestId('run').first().click();
          await frame.getByTestId('segment-broken').waitFor({ timeout: 10_000 });
          assert.deepEqual(errors, []);
        } finally {
          await browser.close();
        }
      } finally {
        watch.kill('SIGTERM');
        await new Promise((r) => (watch.exitCode !== null ? r(0) : watch.once('exit', r)));
      }
    });
  });
});
