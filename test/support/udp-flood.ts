/**
 * Floods for the rate-limiting tests: a UDP socket bound to a chosen loopback address that tallies
 * the replies it gets (full answers, TC=1 slips), and a paced flood of one query from it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseResponse, type Address } from './dns-client.js';

export interface TallyingClient {
  socket: Socket;
  /** Full responses: replies without TC (whatever their rcode: NXDOMAIN floods count too). */
  answers(): number;
  /** Replies with TC=1 (slips). */
  slips(): number;
  /** Replies of any kind. */
  replies(): number;
  close(): void;
}

/** A UDP socket bound to `local` (e.g. 127.0.0.2, another source on loopback). */
export async function tallyingClient(local: string): Promise<TallyingClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, local, resolve));
  socket.setRecvBufferSize(4 << 20);
  let answers = 0;
  let slips = 0;
  let replies = 0;
  socket.on('message', (reply) => {
    replies++;
    const message = parseResponse(reply);
    if (message.flags.tc) slips++;
    else answers++;
  });
  return { socket, answers: () => answers, slips: () => slips, replies: () => replies, close: () => socket.close() };
}

/**
 * Sends `count` queries from `from` to `server` in bursts of `burst` every `everyMs` (small bursts:
 * the server socket's receive buffer must take them); `query(i)` builds the i-th. Between bursts,
 * `between(burstIndex)` may send other traffic. Resolves when the last burst is sent.
 */
export async function pacedFlood(
  from: TallyingClient,
  server: Address,
  count: number,
  query: (i: number) => Buffer,
  options: { burst: number; everyMs: number; between?: (burstIndex: number) => void },
): Promise<void> {
  for (let sent = 0, burstIndex = 0; sent < count; burstIndex++) {
    for (let i = 0; i < options.burst && sent < count; i++, sent++) from.socket.send(query(sent), server.port, server.host);
    options.between?.(burstIndex);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs));
  }
}
