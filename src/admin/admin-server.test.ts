/**
 * The admin endpoint against hostile request targets: a URL that does not parse or a path that is
 * not valid percent-encoding gets 400, before and whatever the token, with nothing logged above
 * debug and nothing changed. Real HTTP over loopback, raw request lines (a client would fix them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Logger } from '../telemetry/index.js';
import { startAdminServer, type OverrideRequest } from './admin-server.js';

/** Sends one raw request line and returns the status code of the answer. */
function rawRequest(port: number, method: string, target: string, headers = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)));
    socket.on('error', reject);
    socket.end(`${method} ${target} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n${headers}content-length: 0\r\n\r\n`);
  });
}

test('a malformed admin URL gets 400, logged at debug only, before the token check and changing nothing', async (t) => {
  const records: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as { level: number; msg: string });
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream) as unknown as Logger;
  const overrides: [string, OverrideRequest][] = [];
  const admin = await startAdminServer(
    { host: '127.0.0.1', port: 0 },
    'secret-token',
    {
      registry: new Registry(),
      status: () => ({}),
      live: () => true,
      ready: () => true,
      overrides: () => overrides,
      setOverride: async (address, state) => void overrides.push([address, state]),
    },
    logger,
  );
  t.after(() => admin.close());
  const port = admin.address.port;
  for (const [method, target] of [['GET', '/%zz'], ['GET', '//'], ['GET', '//[::1'], ['GET', '/overrides/%E0%A4%A'], ['PUT', '/overrides/%zz?state=down'], ['DELETE', '/overrides/192.0.2.1%']] as const) {
    for (const auth of ['', 'authorization: Bearer secret-token\r\n']) {
      assert.equal(await rawRequest(port, method, target, auth), 400, `${method} ${target} ${auth === '' ? 'without' : 'with'} the token`);
    }
  }
  assert.deepEqual(overrides, [], 'no override was set');
  assert.deepEqual(records.filter((record) => record.level > 20).map((record) => record.msg), [], 'nothing above debug was logged');
  assert.ok(records.some((record) => record.level === 20 && record.msg === 'admin request refused'), 'each refusal is logged at debug');
  // The endpoint still works: a well-formed request without the token is 401, with it 200.
  assert.equal(await rawRequest(port, 'GET', '/status'), 401);
  assert.equal(await rawRequest(port, 'GET', '/status', 'authorization: Bearer secret-token\r\n'), 200);
});
