/**
 * Node's floor (bench/interleaved.ts --node-floor): a Node process that answers each query with itself
 * (QR set), doing no DNS work, through the repository's native batched module (recvmmsg/sendmmsg on
 * Node's loop, as `--io batched` does) or through node:dgram. Beside the C floor
 * (floor-responder.c) it shows what the runtime alone adds to a responder's latency on this machine.
 * Usage: node node-floor-responder.mjs '{"mode":"batched"|"dgram","port":N,"repo":"/path/to/checkout"}'
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';

const { mode, port, repo } = JSON.parse(process.argv[2]);
if (mode === 'dgram') {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, peer) => {
    message[2] |= 0x80;
    socket.send(message, peer.port, peer.address);
  });
  socket.bind(port, '127.0.0.1', () => console.log('ready'));
} else {
  const native = createRequire(import.meta.url)(`${repo}/native/batched-udp/build/Release/batched_udp.node`);
  const { batch, slot } = native;
  const input = Buffer.alloc(batch * slot);
  const output = Buffer.alloc(batch * slot);
  // Per slot: length in, answer length out, then two fields the module fills (src/wire/batched-udp.ts).
  const metaBytes = Buffer.alloc(batch * 16);
  const meta = new Int32Array(metaBytes.buffer, metaBytes.byteOffset, batch * 4);
  const addresses = Buffer.alloc(batch * 16);
  const onBatch = (count) => {
    for (let i = 0; i < count; i++) {
      const length = meta[i * 4];
      meta[i * 4 + 1] = 0;
      if (length < 3) continue;
      input.copy(output, i * slot, i * slot, i * slot + length);
      output[i * slot + 2] |= 0x80;
      meta[i * 4 + 1] = length;
    }
  };
  // As src/wire/batched-udp.ts opens it: dgram's 4 MiB receive buffer, and the module's counters.
  native.open('127.0.0.1', port, 4, false, 4 << 20, onBatch, input, output, metaBytes, addresses, new Float64Array(16));
  console.log('ready');
}
