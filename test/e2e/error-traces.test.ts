/**
 * Errors never go without a trace: an exception in the answer path is answered SERVFAIL, counted
 * in /metrics and logged once (off the query path, with its stack), and a zone reload that fails
 * as a whole is logged and counted in every process, a cluster worker's included.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { HealthMonitor } from '../../src/health/index.js';
import { captureLogger } from '../support/capture-logger.js';
import { query } from '../support/dns-client.js';
import { waitFor } from '../support/e2e.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/start-test-server.js';

const ZONE = `zone: trace.test
ttl: 60
soa: { mname: ns1.trace.test, rname: hostmaster.trace.test, serial: 1 }
records:
  "@": { NS: [ns1.trace.test] }
  ns1: { A: 192.0.2.53 }
  two: { A: [192.0.2.1, 192.0.2.2] }
`;

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} is exported`);
  return Number(line.slice(name.length + 1));
}

/** The trace.test zone on loopback, logging into `log`, closed after the test. */
async function serve(t: TestContext, log: ReturnType<typeof captureLogger>, options: Partial<TestServerOptions> = {}): Promise<TestServer> {
  const server = await startTestServer({ zones: { 'trace.yaml': ZONE }, healthDisabled: true, watchZones: false, logger: log.logger, ...options });
  t.after(() => server.close());
  return server;
}

test('an exception in the answer path is answered SERVFAIL, counted, and logged once with its stack', async (t) => {
  const log = captureLogger();
  const server = await serve(t, log, {
    admin: { host: '127.0.0.1', port: 0 },
    // Shuffling the two records asks the random source, which breaks: a defect inside answering.
    random: {
      next() {
        throw new Error('the random source broke');
      },
    },
  });

  for (let i = 0; i < 5; i++) {
    const response = await query(server.v4, 'two.trace.test', 'A');
    assert.equal(response.rcodeName, 'SERVFAIL');
  }
  assert.equal((await query(server.v4, 'ns1.trace.test', 'A')).rcodeName, 'NOERROR', 'other names still answer');

  const metrics = await (await fetch(`http://127.0.0.1:${server.running.adminAddress!.port}/metrics`)).text();
  assert.equal(metricValue(metrics, 'meridian_dns_internal_errors_total'), 5);
  assert.equal(metricValue(metrics, 'meridian_dns_handler_errors_total'), 0);
  assert.equal(metricValue(metrics, 'meridian_dns_send_errors_total'), 0);

  const traces = await waitFor('the log line', () => {
    const found = log.lines().filter((line) => String(line.msg).startsWith('answering a query threw'));
    return found.length > 0 ? found : undefined;
  }, 5000);
  const first = traces[0]!;
  assert.equal(first.level, 50);
  assert.match(String(first.reason), /the random source broke\n\s+at /, 'the stack says where');
  // The first is logged at once; the rest of the burst waits for the next line (a minute later).
  assert.equal(traces.length, 1, 'one line for a burst, not one per query');
});

test('a zone reload that fails as a whole is logged and counted, in a cluster worker too', async (t) => {
  for (const worker of [false, true]) {
    const log = captureLogger();
    // A cluster worker: health comes from the primary, and it reloads when the primary says so.
    const server = await serve(t, log, worker ? { worker: { health: new HealthMonitor() } } : {});
    // The zones folder disappears: reading it fails, so the reload fails as a whole.
    await rm(server.zonesDir, { recursive: true, force: true });
    await assert.rejects(server.running.reloadZones());
    const line = log.lines().find((l) => l.msg === 'zone reload failed; still serving the zones loaded before');
    assert.ok(line, `${worker ? 'worker' : 'server'}: the failure is logged`);
    assert.match(String(line.reason), /ENOENT/);
    assert.equal(server.running.counterSnapshot().transport.zoneReloadErrors, 1);
    assert.equal((await query(server.v4, 'ns1.trace.test', 'A')).rcodeName, 'NOERROR', 'the zones loaded before keep serving');
  }
});
