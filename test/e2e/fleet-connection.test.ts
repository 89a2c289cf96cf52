import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetConnection, parseFleetOptions, type FleetConnectionState } from '../../src/fleet/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { waitFor } from '../support/e2e.js';
import { freePort, startNats } from '../support/nats-server.js';

test('the fleet connection waits for an engine that is not up yet, follows it down and back, and closes', async (t) => {
  const engine = await startNats(1);
  t.after(() => engine.stop());
  const node = engine.nodes[0]!;
  await node.kill();
  const options = parseFleetOptions({ fleet: engine.urls, instance: 'ns1' })!;
  const connection = FleetConnection.open(options, silentLogger(), { retryMs: 100 });
  t.after(() => connection.close());
  const seen: FleetConnectionState[] = [];
  connection.onState((state) => seen.push(state));
  assert.equal(connection.state, 'connecting');
  assert.equal(connection.connection, null);

  await node.start();
  const live = await connection.whenConnected();
  assert.ok(live, 'connected once the engine accepts clients');
  assert.ok(connection.everConnected);

  await node.kill();
  await waitFor('the loss of the engine to be noticed', () => connection.state === 'disconnected', 5000);
  assert.equal(connection.connection, null);
  assert.ok(connection.lastFailure);

  await node.start();
  await waitFor('the reconnection', () => connection.state === 'connected', 5000);
  await connection.close();
  assert.equal(connection.state, 'closed');
  assert.deepEqual(seen, ['connected', 'disconnected', 'connected', 'closed']);
});

test('a token in the URL authenticates against a server that demands it; whenTried() gives up on the first failed attempt; close() stops the retries of an unreachable engine', async (t) => {
  const port = await freePort();
  const unreachable = FleetConnection.open(parseFleetOptions({ fleet: `nats://127.0.0.1:${port}`, instance: 'lonely' })!, silentLogger(), { retryMs: 50 });
  // A start waits on whenTried(): it gives up with the first failed attempt, not after a timer.
  assert.equal(await unreachable.whenTried(), null);
  assert.notEqual(unreachable.lastFailure, null, 'resolved by the failed attempt');
  assert.equal(unreachable.state, 'connecting');
  await unreachable.close();
  assert.equal(unreachable.state, 'closed');
  assert.equal(await unreachable.whenConnected(), null);

  const engine = await startNats(1, ['--auth', 's3cret']);
  t.after(() => engine.stop());
  const refused = FleetConnection.open(parseFleetOptions({ fleet: engine.nodes[0]!.url.replace('nats://', 'nats://wrong@'), instance: 'ns0' })!, silentLogger(), { retryMs: 50 });
  await waitFor('the wrong token to be refused', () => /authori[sz]ation/i.test(refused.lastFailure ?? ''), 5000);
  assert.equal(refused.state, 'connecting');
  await refused.close();
  const url = engine.nodes[0]!.url.replace('nats://', 'nats://s3cret@');
  const connection = FleetConnection.open(parseFleetOptions({ fleet: url, instance: 'ns1' })!, silentLogger(), { retryMs: 100 });
  t.after(() => connection.close());
  assert.ok(await connection.whenTried(), 'whenTried() resolves with the connection once made');
  assert.ok(await connection.whenConnected());
});
