/**
 * One teardown: a start that fails half-way releases what it had already taken (here the DNS
 * sockets, bound before the admin endpoint fails), and close() stops everything once however
 * often it is called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMeridian } from '../../src/server/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { useCompiledZoneParser } from '../support/compiled-build.js';
import { query } from '../support/dns-client.js';
import { freePort } from '../support/free-port.js';

const ZONE = `zone: stop.test
ttl: 60
soa: { mname: ns1.stop.test, rname: hostmaster.stop.test, serial: 1 }
records:
  "@": { NS: [ns1.stop.test] }
  ns1: { A: 192.0.2.53 }
`;

/** Binds TCP on the port and lets it go again: resolves true when the port was free. */
function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

test('a start that fails at the admin endpoint releases the DNS sockets it had bound', async (t) => {
  // As startTestServer does: zone parser threads from the tests' build when it is current, not through tsx.
  useCompiledZoneParser();
  const dir = await mkdtemp(join(tmpdir(), 'meridian-stop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'stop.yaml'), ZONE);
  // Something else holds the admin port.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const adminPort = (squatter.address() as { port: number }).port;

  const dnsPort = await freePort();
  const options = { zonesPath: dir, listen: [{ host: '127.0.0.1', port: dnsPort }], logger: silentLogger(), geoDisabled: true, healthDisabled: true, watchZones: false };
  await assert.rejects(startMeridian({ ...options, admin: { host: '127.0.0.1', port: adminPort } }), /EADDRINUSE/);
  assert.equal(await tcpFree(dnsPort), true, 'the DNS TCP port was let go');

  // The same address can be served at once: nothing of the failed start holds it.
  const running = await startMeridian(options);
  try {
    assert.equal((await query({ host: '127.0.0.1', port: dnsPort }, 'ns1.stop.test', 'A')).rcodeName, 'NOERROR');
  } finally {
    await Promise.all([running.close(), running.close()]);
  }
  assert.equal(await tcpFree(dnsPort), true, 'close() let the port go');
  await running.close();
});
