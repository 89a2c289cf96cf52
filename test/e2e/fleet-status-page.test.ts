/**
 * The fleet on the status page and in the Grafana dashboard: a real nats-server, two instances (in
 * this process, each probing one local HTTP target from its own loopback source) and Debian's
 * headless Chromium on the first instance's page. The target fails for the second instance's source
 * only: the page shows both instances, both views and the verdict (under majority, down), the row
 * marked as a disagreement; when the target answers both again the row turns up and agreed without
 * a reload. The fleet's metrics that the dashboard queries are the ones this instance exports.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFleetOptions } from '../../src/fleet/index.js';
import { launchChromium } from '../support/browser.js';
import { repoRoot } from '../support/e2e.js';
import { failoverZone, sourceTarget } from '../support/fleet-instances.js';
import { startNats } from '../support/nats-server.js';
import { startTestServer } from '../support/start-test-server.js';

const MAIN = '127.0.81.1';
const BACKUP = '192.0.2.96';
const SOURCES = { pa: '127.0.0.51', pb: '127.0.0.52' } as const;

test('the status page shows the fleet: connection, instances, each instance\'s view and the verdict, disagreements marked; the dashboard\'s fleet metrics exist', { timeout: 60_000 }, async (t) => {
  const engine = await startNats(1);
  t.after(() => engine.stop());
  const target = await sourceTarget(MAIN);
  t.after(() => target.close());
  target.failFor(SOURCES.pb);
  const [pa] = await Promise.all(
    (['pa', 'pb'] as const).map(async (name) => {
      const server = await startTestServer({
        zones: { 'page-fleet.test.yaml': failoverZone('page-fleet.test', target, BACKUP, 'timeout: 500ms') },
        admin: { host: '127.0.0.1', port: 0 },
        fleet: parseFleetOptions({ fleet: engine.urls, instance: name }),
        probeSources: [SOURCES[name]],
        watchZones: false,
      });
      t.after(() => server.close());
      return server;
    }),
  );
  const admin = pa!.running.adminAddress!;
  const base = `http://${admin.host}:${admin.port}`;
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = browser.page;
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${base}/`);

  await t.test('the engine, this instance deciding with the fleet, and both instances live', async () => {
    await page.locator('#fleet [data-connection="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('#fleet [data-alone="no"]').waitFor({ timeout: 15_000 });
    for (const name of ['pa', 'pb']) await page.locator(`#fleet-instances tr[data-instance="${name}"][data-live="true"]`).waitFor({ timeout: 10_000 });
    assert.match((await page.locator('#fleet-instances tr[data-instance="pa"]').textContent()) ?? '', /this one/);
  });

  await t.test('a member the instances disagree on: both views, the verdict by majority, the row marked', async () => {
    const row = page.locator(`#fleet-views tr[data-target="${MAIN}"][data-check="web"]`);
    await page.locator(`#fleet-views tr[data-target="${MAIN}"][data-disagree="true"][data-verdict="down"]`).waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('td[data-view="pa"]').getAttribute('data-status'), 'up');
    assert.equal(await row.locator('td[data-view="pb"]').getAttribute('data-status'), 'down');
    assert.match((await row.getAttribute('class')) ?? '', /\bdisagree\b/);
    assert.match((await row.textContent()) ?? '', /disagree/);
    assert.deepEqual(await page.locator('#fleet-views-head th').allTextContents(), ['member', 'check', 'quorum', 'verdict', 'pa', 'pb']);
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((globalThis as { loadedOnce?: number }).loadedOnce = 1));

    target.failFor();
    await page.locator(`#fleet-views tr[data-target="${MAIN}"][data-disagree="false"][data-verdict="up"]`).waitFor({ timeout: 15_000 });
    assert.equal(await row.locator('td[data-view="pb"]').getAttribute('data-status'), 'up');
    assert.equal(await page.evaluate(() => (globalThis as { loadedOnce?: number }).loadedOnce), 1, 'the page was not reloaded');
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  await t.test('every fleet metric the Grafana dashboard queries is exported by a fleet instance', async () => {
    const board = JSON.parse(await readFile(join(repoRoot, 'deploy', 'grafana', 'meridian.json'), 'utf8')) as unknown;
    const queried = new Set([...JSON.stringify(board).matchAll(/\bmeridian_fleet_[a-z0-9_]+\b/g)].map((match) => match[0]));
    assert.ok(queried.size >= 5, `the dashboard queries ${queried.size} fleet metrics`);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const exported = new Set([...metrics.matchAll(/^# TYPE (meridian_fleet_\S+) /gm)].map((match) => match[1]!));
    assert.deepEqual([...queried].filter((name) => !exported.has(name)), [], 'fleet metrics the dashboard queries but /metrics does not export');
  });
});
