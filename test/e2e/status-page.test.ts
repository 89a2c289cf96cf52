/**
 * Issue 18, the status page, end to end: a real Meridian with its admin endpoint on loopback,
 * real HTTP health targets on 127.18.x.y, and Debian's headless Chromium (through playwright-core)
 * on the page at GET /. A member stopped by the test turns "down" on the page without a reload;
 * a drain clicked on the page (and confirmed) changes the DNS answer dig gets; the explain box
 * and /explain say what `meridian explain` says.
 */
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type HeadlessBrowser } from '../support/browser.js';
import { dig, explainInProcess, waitFor } from '../support/e2e.js';
import { httpGroup } from '../support/probe-targets.js';
import { startTestServer, type TestServerOptions } from '../support/start-test-server.js';

function zoneText(port: number, members: readonly string[]): string {
  return `zone: example.test
ttl: 60
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 18 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www: { geo: { country: { GB: [london, web] }, default: [web] } }
  static: { A: 192.0.2.10 }
pools:
  web: { check: web, members: [${members.join(', ')}] }
  london: { members: [192.0.2.44] }
checks:
  web: { type: http, port: ${port}, path: /healthz, expect: 200, interval: 1s, timeout: 900ms, rise: 1, fall: 2 }
`;
}

async function serve(t: TestContext, members: readonly string[], options: Partial<TestServerOptions> = {}) {
  const group = await httpGroup(t, members);
  const server = await startTestServer({
    zones: { 'example.test.yaml': zoneText(group.port, members) },
    admin: { host: '127.0.0.1', port: 0 },
    // The embedded country database, as `meridian explain` opens by default.
    geoDisabled: false,
    ...options,
  });
  t.after(() => server.close());
  const admin = server.running.adminAddress!;
  return { server, targets: group.targets, base: `http://${admin.host}:${admin.port}` };
}

// One Chromium for the file (a launch costs more CPU than the page work of a test); each test gets a page of its own.
let browser: Promise<HeadlessBrowser> | undefined;
after(async () => {
  if (browser) await (await browser).close();
});

async function newPage(t: TestContext): Promise<Page> {
  browser ??= launchChromium();
  const page = await (await browser).context.newPage();
  t.after(() => page.close());
  return page;
}

/** The A records dig gets for www.example.test, sorted. */
async function digAnswer(address: { host: string; port: number }): Promise<string[]> {
  return (await dig(address, ['+short', 'www.example.test', 'A'])).trim().split('\n').filter(Boolean).sort();
}

test('in Chromium: a stopped member turns down without a reload; a drain clicked and confirmed on the page changes the DNS answer', { timeout: 120_000 }, async (t) => {
  const members = ['127.18.1.1', '127.18.1.2', '127.18.1.3'];
  const { server, targets, base } = await serve(t, members);
  const page = await newPage(t);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));

  await page.goto(`${base}/`);
  for (const member of members) await page.locator(`tr[data-member="${member}"][data-state="up"]`).waitFor({ timeout: 15_000 });
  assert.deepEqual(await digAnswer(server.v4), members);
  // The header names the addresses answering and the UDP I/O in use.
  assert.match((await page.locator('#meta').textContent()) ?? '', new RegExp(`answering on 127\\.0\\.0\\.1:${server.v4.port}, .* \\(UDP ${server.running.sockets.io}\\)`));
  // Marks this document: a reload would lose it.
  await page.evaluate(() => ((globalThis as { loadedOnce?: number }).loadedOnce = 1));

  await targets[0]!.stop();
  await page.locator('tr[data-member="127.18.1.1"][data-state="down"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => (globalThis as { loadedOnce?: number }).loadedOnce), 1, 'the page was not reloaded');
  assert.match((await page.locator('tr[data-member="127.18.1.1"]').textContent()) ?? '', /connect ECONNREFUSED/);
  await page.locator('#timeline li', { hasText: '127.18.1.1 (web)' }).waitFor({ timeout: 5000 });
  assert.deepEqual(await digAnswer(server.v4), ['127.18.1.2', '127.18.1.3']);

  // Drain 127.18.1.2 from the page: a confirmation first; Cancel changes nothing.
  await page.locator('tr[data-member="127.18.1.2"] button[data-action="drain"]').click();
  assert.match((await page.locator('#confirm-text').textContent()) ?? '', /^Drain 127\.18\.1\.2 \(pool web\)\?/);
  await page.locator('#confirm-cancel').click();
  assert.equal(server.running.health.overrideOf('127.18.1.2'), null, 'cancelled: no override');
  await page.locator('tr[data-member="127.18.1.2"] button[data-action="drain"]').click();
  await page.locator('#confirm-ok').click();
  await page.locator('tr[data-member="127.18.1.2"][data-state="drained"]').waitFor({ timeout: 10_000 });
  assert.deepEqual(await digAnswer(server.v4), ['127.18.1.3'], 'the drained member is no longer answered');

  // Clear gives it back to its probes.
  await page.locator('tr[data-member="127.18.1.2"] button[data-action="clear"]').click();
  await page.locator('#confirm-ok').click();
  await page.locator('tr[data-member="127.18.1.2"][data-state="up"]').waitFor({ timeout: 10_000 });
  assert.deepEqual(await digAnswer(server.v4), ['127.18.1.2', '127.18.1.3']);

  // The explain box: the same explanation as the CLI (the lines that do not depend on health).
  await page.fill('input[name=name]', 'www.example.test');
  await page.fill('input[name=from]', '81.2.69.0/24');
  await page.click('#explain-form button[type=submit]');
  const explained = await waitFor('the explanation', async () => {
    const text = (await page.textContent('#explained')) ?? '';
    return text.includes('answer:') ? text : undefined;
  }, 10_000);
  const cli = await explainInProcess(['www.example.test', '--from', '81.2.69.0/24', '--zones', server.zonesDir, '--no-health']);
  assert.equal(cli.code, 0, cli.stderr);
  const head = (text: string) => text.split('\n').filter((line) => /^(query|client|rule|outcome): /.test(line));
  assert.deepEqual(head(explained), head(cli.stdout));
  assert.match(explained, /rule: {5}geo country GB → \[london, web\]/);
  assert.deepEqual(pageErrors, [], 'no script errors on the page');
});

test('/explain answers what `meridian explain` prints, from the live state; bad questions get a 400 with the reason', async (t) => {
  const { server, base } = await serve(t, ['127.18.2.1'], { healthDisabled: true });
  for (const [name, type, from] of [
    ['www.example.test', 'A', '81.2.69.0/24'],
    ['www.example.test', 'AAAA', '192.0.2.1'],
    ['static.example.test', 'A', '2001:db8::/48'],
    ['nope.example.test', 'TXT', '192.0.2.1'],
    ['www.example.org', 'A', '192.0.2.1'],
  ] as const) {
    const response = await fetch(`${base}/explain?${new URLSearchParams({ name, type, from })}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { text: string; report: { query: { name: string } } };
    const cli = await explainInProcess([name, type, '--from', from, '--zones', server.zonesDir, '--no-health']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(body.text, cli.stdout, `${name} ${type} from ${from}`);
    const cliJson = await explainInProcess([name, type, '--from', from, '--zones', server.zonesDir, '--no-health', '--json']);
    assert.deepEqual(body.report, JSON.parse(cliJson.stdout));
  }
  for (const [query, error] of [
    ['name=www.example.test&from=300.1.1.1', /--from 300\.1\.1\.1: expected an IP address or a subnet/],
    ['name=www.example.test&from=192.0.2.0/33', /prefix must be 0 to 32/],
    ['name=www.example.test&type=BOGUS&from=192.0.2.1', /unknown record type BOGUS/],
    ['name=www.example.test', /name and from are required/],
  ] as const) {
    const response = await fetch(`${base}/explain?${query}`);
    assert.equal(response.status, 400, query);
    assert.match(((await response.json()) as { error: string }).error, error);
  }
});

test('the page is served without data; with a token everything it reads needs the token; other sites are refused', async (t) => {
  const { base } = await serve(t, ['127.18.3.1'], { adminToken: 's3cret' });
  const html = await fetch(`${base}/`);
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  const text = await html.text();
  assert.match(text, /<script>/);
  assert.doesNotMatch(text, /127\.18\.3\.1|<script src|<link rel="stylesheet"/, 'no data and nothing fetched from elsewhere');
  for (const path of ['/status', '/activity', '/explain?name=www.example.test&from=192.0.2.1']) {
    assert.equal((await fetch(`${base}${path}`)).status, 401, path);
  }
  const activity = await fetch(`${base}/activity`, { headers: { authorization: 'Bearer s3cret' } });
  assert.equal(activity.status, 200);
  const body = (await activity.json()) as { changes: unknown[]; traffic: { sampleMs: number; samples: { rcodes: Record<string, number> }[] } };
  assert.ok(Array.isArray(body.changes));
  assert.equal(body.traffic.sampleMs, 2000);

  // A change sent by a page on another site carries its Origin: refused even with the token.
  const crossSite = await fetch(`${base}/overrides/127.18.3.1`, {
    method: 'PUT',
    headers: { authorization: 'Bearer s3cret', origin: 'http://evil.example', 'content-type': 'application/json' },
    body: JSON.stringify({ state: 'down' }),
  });
  assert.equal(crossSite.status, 403);
  assert.match(((await crossSite.json()) as { error: string }).error, /another site/);

  // In Chromium: the page asks for the token, then shows the pools.
  const page = await newPage(t);
  await page.goto(`${base}/`);
  await page.locator('#token-form.shown').waitFor({ timeout: 10_000 });
  await page.fill('input[name=token]', 's3cret');
  await page.click('#token-form button');
  await page.locator('tr[data-member="127.18.3.1"]').waitFor({ timeout: 10_000 });
});

test('without a token the endpoint answers only to loopback host names (no DNS rebinding)', async (t) => {
  const { base } = await serve(t, ['127.18.4.1'], { healthDisabled: true });
  const { request } = await import('node:http');
  const status = (host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const url = new URL(`${base}/status`);
      request({ host: url.hostname, port: url.port, path: '/status', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
  assert.equal(await status('evil.example:9153'), 403);
  assert.equal(await status(new URL(base).host), 200);
  assert.equal(await status('localhost:9153'), 200);
});
