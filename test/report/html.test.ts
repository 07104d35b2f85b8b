import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { ReportSchema } from '../../src/model/report.js';
import { hopdump, host, withLab } from '../helpers/lab.js';

/**
 * report.html, opened from disk in Debian's Chromium (headless, through playwright-core) with
 * every request that is not the file itself refused: it renders fully, fetches nothing, draws the
 * broken segment between the hops where the packets stop, names the top cause with its fix, links
 * the capture beside it. The lab's backend and guest NIC carry markup in their names (Linux allows
 * `<` and `>` in interface names): it shows as text, no element is made of it. Screenshots (wide,
 * phone, dark) go to test-artifacts/.
 */
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const BACKEND = '<u>vnet0';
const GUEST_NIC = '<i>eth0';

test('report.html from disk, network blocked: full render, the broken segment at the right hop, markup in names escaped', async () => {
  await withLab({ topology: 'bridged', fault: 'link-down', prefix: 'rh' }, async (lab) => {
    // The fault left vnet0 down: rename it (and vm1's NIC) as a guest owner with NET_ADMIN could.
    await host.run(['ip', 'link', 'set', 'vnet0', 'name', BACKEND], { netns: lab.state.hypervisor });
    await host.run(['ip', 'link', 'set', 'eth0', 'down'], { netns: lab.ns('vm1') });
    await host.run(['ip', 'link', 'set', 'eth0', 'name', GUEST_NIC], { netns: lab.ns('vm1') });
    await host.run(['ip', 'link', 'set', GUEST_NIC, 'up'], { netns: lab.ns('vm1') });
    const dir = join(mkdtempSync(join(tmpdir(), 'hd-report-html-')), 'run');
    try {
      const r = await hopdump([
        'diagnose',
        '--netns',
        lab.state.hypervisor,
        '--from',
        `netns:${lab.state.client}`,
        '--target',
        '192.0.2.11',
        '--probe',
        'icmp',
        '--out',
        dir,
      ]);
      assert.equal(r.code, 1, r.stderr);
      const report = ReportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
      assert.equal(report.causes[0]?.id, 'link-down');
      // The capture that could not start is said once, on its hop, not again as a reader's notice.
      assert.deepEqual(
        report.notices.filter((n) => /empty file/.test(n)),
        [],
      );
      const hops = report.path.hops;
      const lastSeen = hops.findIndex(
        (h) => h.ifname === report.loss?.lastSeenHop?.ifname && h.netns === report.loss.lastSeenHop.netns,
      );
      const firstMissing = hops.findIndex(
        (h) => h.ifname === report.loss?.firstMissingHop?.ifname && h.netns === report.loss.firstMissingHop.netns,
      );
      assert.ok(lastSeen >= 0 && firstMissing >= 0, JSON.stringify(report.loss));

      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      try {
        const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
        const fetched: string[] = [];
        await context.route('**/*', (route) => {
          const url = route.request().url();
          if (url === `file://${join(dir, 'report.html')}`) return route.continue();
          fetched.push(url);
          return route.abort();
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        await page.goto(`file://${join(dir, 'report.html')}`);
        assert.equal(await page.getByTestId('status').textContent(), 'BROKEN');
        // The broken segment: between the last hop that saw the packets and the first that did not.
        const seg = page.getByTestId('segment-broken');
        assert.equal(await seg.count(), 1);
        const [from, to] = [Number(await seg.getAttribute('data-from')), Number(await seg.getAttribute('data-to'))];
        assert.deepEqual(
          [Math.min(from, to), Math.max(from, to)],
          [Math.min(lastSeen, firstMissing), Math.max(lastSeen, firstMissing)],
        );
        assert.match((await seg.textContent()) ?? '', /✗.*packets lost here|packets lost here.*✗/s);
        // The hop where they stop is named as text, markup and all.
        assert.equal(
          await page.getByTestId(`hop-${firstMissing}`).locator('text.ifname').textContent(),
          hops[firstMissing]!.ifname,
        );
        assert.equal(await page.getByTestId('cause-0').getAttribute('data-cause'), 'link-down');
        assert.match((await page.getByTestId('fix-block').first().textContent()) ?? '', /ip .*link set .*up/);
        assert.equal(await page.getByTestId('capture-link').getAttribute('href'), 'capture.pcapng');
        assert.equal(await page.getByTestId('capture-path').textContent(), join(dir, 'capture.pcapng'));
        // Names with markup made no element: the text is there, the elements are not.
        assert.equal(await page.locator('u').count(), 0);
        assert.equal(await page.locator('i').count(), 0);
        assert.ok(((await page.content()) ?? '').includes('&lt;u&gt;vnet0'));
        assert.ok((await page.locator('body').textContent())?.includes(BACKEND));
        assert.deepEqual(fetched, [], 'nothing is fetched');
        assert.deepEqual(errors, []);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'report-html.png'), fullPage: true });
        // A phone, and the dark scheme.
        await page.setViewportSize({ width: 390, height: 844 });
        assert.ok(await page.getByTestId('path-diagram').isVisible());
        await page.screenshot({ path: join(ARTIFACTS, 'report-html-phone.png'), fullPage: true });
        await page.emulateMedia({ colorScheme: 'dark' });
        await page.setViewportSize({ width: 1100, height: 900 });
        await page.screenshot({ path: join(ARTIFACTS, 'report-html-dark.png'), fullPage: true });
        // Printable: the copy buttons go, the content stays.
        await page.emulateMedia({ media: 'print', colorScheme: 'light' });
        assert.equal(await page.getByTestId('copy-fix').first().isVisible(), false);
        assert.ok(await page.getByTestId('causes').isVisible());
      } finally {
        await browser.close();
      }
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
