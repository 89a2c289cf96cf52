/**
 * `npm run screenshot`: writes docs/status-page.png, the README's picture of the status page.
 * Serves the sample zone (zones/example.test.yaml, with its checks pointed at local servers on a
 * port chosen now and probed every second) with most members answering, sends mixed queries for
 * SCREENSHOT_TRAFFIC_MS (default 40 s), stops the api primary and drains one app member, then
 * photographs the page in headless Chromium with an explanation in the explain box. Loopback only.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { query } from './dns-client.js';
import { launchChromium } from './browser.js';
import { contractZone, repoRoot, sleep, waitFor } from './e2e.js';
import { onOnePort, startHttpTarget, startTcpTarget } from './probe-targets.js';
import { startTestServer } from './start-test-server.js';

const OUTPUT = join(repoRoot, 'docs', 'status-page.png');
const TRAFFIC_MS = Number(process.env.SCREENSHOT_TRAFFIC_MS ?? 40_000);

async function main(): Promise<void> {
  const web = await onOnePort(['127.0.1.1', '127.0.1.2', '127.0.2.1', '127.0.4.1', '127.0.4.2', '127.0.6.1', '127.0.6.2'], (address, port) => startHttpTarget({ address, port }));
  const api = await onOnePort(['127.0.5.1', '127.0.5.2'], (address, port) => startTcpTarget({ address, port }));
  const zone = contractZone()
    .replace('port: 8080', `port: ${web.port}`)
    .replace('port: 8443', `port: ${api.port}`)
    .replace(/interval: \d+s, timeout: \d+s/g, 'interval: 1s, timeout: 900ms');
  const server = await startTestServer({ zones: { 'example.test.yaml': zone }, admin: { host: '127.0.0.1', port: 0 }, geoDisabled: false, watchZones: false });
  const browser = await launchChromium({ width: 1360, height: 1000 });
  try {
    const admin = server.running.adminAddress!;
    const base = `http://${admin.host}:${admin.port}`;
    // Traffic: mostly geo answers from three regions, some static, some NXDOMAIN and REFUSED.
    const asks: [string, string, string | undefined][] = [
      ['www.example.test', 'A', '81.2.69.0/24'],
      ['www.example.test', 'A', '90.0.0.0/16'],
      ['www.example.test', 'AAAA', '81.2.69.0/24'],
      ['www.example.test', 'A', '10.0.0.0/8'],
      ['api.example.test', 'A', undefined],
      ['app.example.test', 'A', undefined],
      ['static.example.test', 'A', undefined],
      ['nope.example.test', 'A', undefined],
      ['www.example.org', 'A', undefined],
    ];
    const started = Date.now();
    let sent = 0;
    const traffic = (async () => {
      while (Date.now() - started < TRAFFIC_MS) {
        // A rate that rises and falls, so the chart has a shape.
        const perTick = 4 + Math.round(6 * (1 + Math.sin((Date.now() - started) / 6000)));
        await Promise.all(
          Array.from({ length: perTick }, () => {
            const [name, type, subnet] = asks[sent++ % asks.length]!;
            return query(server.v4, name, type, subnet ? { edns: { clientSubnet: subnet } } : {}).catch(() => undefined);
          }),
        );
        await sleep(100);
      }
    })();
    await sleep(TRAFFIC_MS / 2);
    await api.targets[0]!.stop();
    await fetch(`${base}/overrides/127.0.6.2`, { method: 'PUT', body: JSON.stringify({ state: 'drain' }) });
    await traffic;

    const page = browser.page;
    page.on('pageerror', (error) => process.stderr.write(`screenshot: script error on the page: ${String(error)}\n`));
    await page.goto(`${base}/`);
    await page.locator('tr[data-member="127.0.5.1"][data-state="down"]').waitFor({ timeout: 15_000 });
    await page.fill('input[name=name]', 'www.example.test');
    await page.fill('input[name=from]', '81.2.69.0/24');
    await page.click('#explain-form button[type=submit]');
    await waitFor('the explanation', async () => ((await page.textContent('#explained')) ?? '').includes('answer:'), 10_000);
    await mkdir(join(repoRoot, 'docs'), { recursive: true });
    await page.screenshot({ path: OUTPUT, fullPage: true });
    process.stdout.write(`wrote ${OUTPUT} (${sent} queries sent)\n`);
  } finally {
    await browser.close();
    await server.close();
    await Promise.all([...web.targets, ...api.targets].map((target) => target.stop()));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`screenshot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
