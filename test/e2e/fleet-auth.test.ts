/**
 * The fleet through NATS's own TLS and authentication, against a real nats-server that demands both
 * (`--tls` with a certificate from a CA made here with openssl, `--user`/`--pass`): an instance with
 * the right CA (`tls://` + `--fleet-ca`) and password joins; one with another CA, or a wrong
 * password, says why in its log and /status and keeps answering alone. The servers run in this
 * process (startMeridian), started together.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseFleetOptions, type FleetReport } from '../../src/fleet/index.js';
import { captureLogger } from '../support/capture-logger.js';
import { query } from '../support/dns-client.js';
import { waitFor } from '../support/e2e.js';
import { startNats } from '../support/nats-server.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';

const run = promisify(execFile);

/** A CA, a server certificate it signs for 127.0.0.1, and an unrelated CA, made with openssl. */
async function makeCertificates(dir: string): Promise<{ ca: string; otherCa: string; cert: string; key: string }> {
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=meridian test CA']);
  await run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '1', '-extfile', file('san.cnf')]);
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('other.key'), '-out', file('other.pem'), '-days', '1', '-subj', '/CN=another CA']);
  return { ca: file('ca.pem'), otherCa: file('other.pem'), cert: file('server.pem'), key: file('server.key') };
}

const ZONE = [
  'zone: auth-fleet.test',
  'ttl: 5',
  'soa: { mname: ns1.auth-fleet.test, rname: hostmaster.auth-fleet.test, serial: 1 }',
  'records:',
  '  "@": { NS: [ns1.auth-fleet.test] }',
  '  ns1: { A: 192.0.2.53 }',
  '  www: { A: 192.0.2.80 }',
  '',
].join('\n');

interface Instance {
  server: TestServer;
  report(): FleetReport;
  logged(): Record<string, unknown>[];
}

async function instance(t: { after(fn: () => unknown): void }, name: string, url: string, ca: string): Promise<Instance> {
  const { logger, lines } = captureLogger();
  const server = await startTestServer({ zones: { 'auth-fleet.test.yaml': ZONE }, fleet: parseFleetOptions({ fleet: url, ca, instance: name }), logger, watchZones: false });
  t.after(() => server.close());
  return { server, report: () => server.running.fleetMember!.report(), logged: lines };
}

async function answersAlone(subject: Instance): Promise<void> {
  const response = await query(subject.server.v4, 'www.auth-fleet.test', 'A', { timeoutMs: 1000 });
  assert.deepEqual(response.answer.map((record) => record.data), ['192.0.2.80']);
  assert.notEqual(subject.report().alone, null, 'it decides alone');
}

test('TLS with --fleet-ca and a user and password: the right ones join; another CA or a wrong password is a clear error and the instance answers alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-fleet-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certs = await makeCertificates(dir);
  const engine = await startNats(1, ['--tls', '--tlscert', certs.cert, '--tlskey', certs.key, '--user', 'meridian', '--pass', 's3cret']);
  t.after(() => engine.stop());
  const address = `127.0.0.1:${engine.nodes[0]!.port}`;

  const [joined, otherCa, wrongPassword] = await Promise.all([
    instance(t, 'tls-ok', `tls://meridian:s3cret@${address}`, certs.ca),
    instance(t, 'tls-other-ca', `tls://meridian:s3cret@${address}`, certs.otherCa),
    instance(t, 'tls-wrong-pass', `tls://meridian:wrong@${address}`, certs.ca),
  ]);

  // Joined: connected, and its own presence came back through the engine's bucket.
  await waitFor('tls-ok to see itself in the fleet', () => joined.report().instances.some((i) => i.instance === 'tls-ok' && i.live), 10_000);
  assert.equal(joined.report().connection, 'connected');
  assert.equal(joined.report().servers.join(), `tls://meridian:***@${address}`, 'the password is never shown');

  // Another CA: the certificate is refused, said in /status and in the log, and the instance answers alone.
  await waitFor('the certificate to be refused', () => otherCa.report().lastFailure ?? undefined, 10_000);
  assert.equal(otherCa.report().connection, 'connecting');
  assert.match(otherCa.report().lastFailure!, /certificate/i);
  const refusedCert = otherCa.logged().find((line) => line.msg === 'fleet: cannot reach the NATS engine yet; answering alone and retrying');
  assert.match(String(refusedCert?.reason), /certificate/i);
  await answersAlone(otherCa);

  // A wrong password: refused by the server as an authorization violation, and the instance answers alone.
  await waitFor('the password to be refused', () => /authori[sz]ation/i.test(wrongPassword.report().lastFailure ?? '') || undefined, 10_000);
  assert.notEqual(wrongPassword.report().connection, 'connected');
  await answersAlone(wrongPassword);
  assert.ok(!JSON.stringify(wrongPassword.logged()).includes('wrong@'), 'the password is not logged');
});
