import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { closeTcpListener, listenTcp, listenUdp, newListenerCounters, type ListenerFaults } from './listeners.js';

function recorder(): { faults: ListenerFaults; seen: { kind: string; message: string }[] } {
  const seen: { kind: string; message: string }[] = [];
  return { faults: (kind, error) => void seen.push({ kind, message: error instanceof Error ? error.message : String(error) }), seen };
}

const throwing = (): number => {
  throw new Error('handler defect');
};

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('a UDP handler that throws is counted and handed to the fault callback, and the socket keeps answering', async () => {
  const counters = newListenerCounters();
  const { faults, seen } = recorder();
  let calls = 0;
  const socket = await listenUdp('127.0.0.1', 0, (packet, _transport, _peer, out) => (++calls === 1 ? throwing() : packet.copy(out)), counters, faults);
  const client = createSocket('udp4');
  try {
    const echoed = new Promise<Buffer>((resolve) => client.once('message', resolve));
    client.send(Buffer.from('first'), socket.address().port, '127.0.0.1');
    await until(() => counters.handlerErrors === 1);
    client.send(Buffer.from('second'), socket.address().port, '127.0.0.1');
    assert.equal((await echoed).toString(), 'second');
    assert.deepEqual(seen, [{ kind: 'handler', message: 'handler defect' }]);
  } finally {
    client.close();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
});

test('a TCP handler that throws, and an error of the listening socket, are counted and handed on; the listener keeps accepting', async () => {
  const counters = newListenerCounters();
  const { faults, seen } = recorder();
  const server = await listenTcp('127.0.0.1', 0, throwing, counters, undefined, faults);
  try {
    const port = (server.address() as { port: number }).port;
    const closed = new Promise<void>((resolve) => {
      const client = connect(port, '127.0.0.1', () => client.write(Buffer.from([0, 2, 0xab, 0xcd])));
      client.on('close', () => resolve());
      client.on('error', () => undefined);
    });
    await closed;
    assert.equal(counters.handlerErrors, 1);
    // What the kernel reports on accept (EMFILE when out of descriptors) arrives as 'error'.
    server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
    assert.equal(counters.tcpListenerErrors, 1);
    assert.deepEqual(seen, [
      { kind: 'handler', message: 'handler defect' },
      { kind: 'listener', message: 'accept EMFILE' },
    ]);
    assert.ok(server.listening);
  } finally {
    await closeTcpListener(server);
  }
});

test('a UDP listener asks for a receive buffer larger than the kernel default, up to what net.core.rmem_max allows', async () => {
  const kernelValue = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
  const socket = await listenUdp('127.0.0.1', 0, () => 0, newListenerCounters());
  try {
    // Linux reports twice what was granted (the doubling covers its bookkeeping).
    const granted = socket.getRecvBufferSize() / 2;
    const ceiling = kernelValue('rmem_max');
    assert.equal(granted, Math.min(4 << 20, ceiling), `granted ${granted} B (rmem_max ${ceiling}, default ${kernelValue('rmem_default')})`);
  } finally {
    socket.close();
  }
});
