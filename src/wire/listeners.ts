/**
 * The sockets. UDP: one datagram in, at most one out. TCP: 2-byte length framing (RFC 1035
 * §4.2.2), several queries per connection answered in order (RFC 7766 §6.2.1), an idle timeout,
 * a connection cap, and a bound on unread output so a client that never reads cannot make us
 * buffer without end. The packet handler is synchronous and never throws (it is wrapped here
 * anyway): one bad request must not stop the socket. Errors are counted and handed to a
 * `ListenerFaults` callback, which must not log on the spot (it runs per packet).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup, type LookupOneOptions } from 'node:dns';
import { createServer, type Server, type Socket } from 'node:net';
import type { Transport } from './decode-query.js';
import { RESPONSE_BUFFER_BYTES } from './encode-response.js';

/**
 * Turns one request into one response, written into `out` from offset 0 (`out` holds
 * RESPONSE_BUFFER_BYTES); returns its length, 0 to send nothing. `out` is the socket's own and is
 * rewritten by the next request: the socket sends or copies the response before asking again.
 */
export type PacketHandler = (packet: Buffer, transport: Transport, peerAddress: string, out: Buffer) => number;

/** Transport-level counters, plain numbers read at scrape time. */
export interface ListenerCounters {
  udpReceived: number;
  tcpReceived: number;
  tcpConnections: number;
  tcpConnectionsRejected: number;
  handlerErrors: number;
  sendErrors: number;
  tcpListenerErrors: number;
}

export function newListenerCounters(): ListenerCounters {
  return { udpReceived: 0, tcpReceived: 0, tcpConnections: 0, tcpConnectionsRejected: 0, handlerErrors: 0, sendErrors: 0, tcpListenerErrors: 0 };
}

/**
 * Told of every error a socket meets after it is counted: the handler threw, a send or a UDP
 * socket failed, a TCP listener failed. Called on the query path: note it, log it later.
 */
export type ListenerFaults = (kind: 'handler' | 'send' | 'listener', error: unknown) => void;

const IGNORE_FAULTS: ListenerFaults = () => undefined;

export interface TcpLimits {
  idleTimeoutMs: number;
  maxConnections: number;
  /** Unsent bytes after which a connection that does not read its answers is closed. */
  maxPendingOutputBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { idleTimeoutMs: 10_000, maxConnections: 512, maxPendingOutputBytes: 1 << 20 };

function safeHandle(handler: PacketHandler, packet: Buffer, transport: Transport, peer: string, out: Buffer, counters: ListenerCounters, faults: ListenerFaults): number {
  try {
    return handler(packet, transport, peer, out);
  } catch (error) {
    counters.handlerErrors++;
    faults('handler', error);
    return 0;
  }
}

/**
 * dgram resolves every destination through `lookup`, and the default (dns.lookup) answers even
 * an IP literal on the next tick. A reply always goes to the literal address the request came
 * from, so it is handed straight back: that saves a tick and two closures per answer (about
 * 2 µs of the 10 µs a reply costs on this path).
 */
function literalAddress(address: string, options: LookupOneOptions, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  // `--listen localhost:PORT` is the one name a socket is ever bound to.
  if (address === 'localhost') lookup(address, options, callback);
  else callback(null, address, address.includes(':') ? 6 : 4);
}

/**
 * Answers every datagram arriving on a bound socket (one this process bound, or one handed to it).
 *
 * Every answer is written into one output buffer per socket and sent from it. That is safe because
 * of how dgram sends: it first tries the system call at once (libuv's uv_udp_try_send), and the
 * kernel copies the datagram before `send` returns; only when the socket's send buffer is full is
 * the request queued, and then libuv keeps pointing at our bytes until the send completes. So
 * after each send, if the socket has anything queued (getSendQueueCount), the buffer is left to
 * that send and the next answer gets a new one: the old one lives as long as the queued send
 * holds it, and nothing rewrites it.
 */
export function serveUdp(socket: UdpSocket, handler: PacketHandler, counters: ListenerCounters, faults: ListenerFaults = IGNORE_FAULTS): void {
  // One completion callback for every send, not a closure per answer.
  const afterSend = (error: Error | null): void => {
    if (error) {
      counters.sendErrors++;
      faults('send', error);
    }
  };
  let out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  socket.on('message', (packet, remote) => {
    counters.udpReceived++;
    const length = safeHandle(handler, packet, 'udp', remote.address, out, counters, faults);
    if (length === 0) return;
    socket.send(out, 0, length, remote.port, remote.address, afterSend);
    if (socket.getSendQueueCount() !== 0) out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  });
  // Socket errors after binding (ICMP-induced, send failures) must not crash the process.
  socket.on('error', (error) => {
    counters.sendErrors++;
    faults('send', error);
  });
}

/** Binds a UDP socket; resolves once it listens. */
export function listenUdp(host: string, port: number, handler: PacketHandler, counters: ListenerCounters, faults: ListenerFaults = IGNORE_FAULTS): Promise<UdpSocket> {
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket({ type: family, ipv6Only: family === 'udp6', lookup: literalAddress });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      serveUdp(socket, handler, counters, faults);
      resolve(socket);
    });
  });
}

/** `out`: the listener's output buffer, shared by its connections (each response is copied out into its frame at once). */
function serveConnection(socket: Socket, handler: PacketHandler, out: Buffer, counters: ListenerCounters, limits: TcpLimits, faults: ListenerFaults): void {
  const peer = socket.remoteAddress ?? '';
  let pending: Buffer | null = null;
  socket.setNoDelay(true);
  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let offset = 0;
    while (buffer.length - offset >= 2) {
      const length = buffer.readUInt16BE(offset);
      if (buffer.length - offset - 2 < length) break;
      const message = buffer.subarray(offset + 2, offset + 2 + length);
      offset += 2 + length;
      counters.tcpReceived++;
      const responseLength = safeHandle(handler, message, 'tcp', peer, out, counters, faults);
      if (responseLength === 0) {
        // RFC 7766 §6.2.4 allows closing after a message we will not answer (garbage, responses).
        socket.destroy();
        return;
      }
      const frame = Buffer.allocUnsafe(2 + responseLength);
      frame.writeUInt16BE(responseLength, 0);
      out.copy(frame, 2, 0, responseLength);
      socket.write(frame);
      if (socket.writableLength > limits.maxPendingOutputBytes) {
        socket.destroy();
        return;
      }
    }
    if (offset < buffer.length) {
      buffer = buffer.subarray(offset);
      // Copy so a partial frame does not pin the whole chunk it arrived in.
      pending = Buffer.from(buffer);
    }
  });
}

const openConnections = new WeakMap<Server, Set<Socket>>();

/** Stops listening and closes every open connection, so shutdown never waits on idle clients. */
export function closeTcpListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of openConnections.get(server) ?? []) socket.destroy();
  });
}

/** Serves DNS over TCP on a listening server (one this process opened, or one handed to it). */
export function serveTcp(server: Server, handler: PacketHandler, counters: ListenerCounters, limits: TcpLimits = DEFAULT_TCP_LIMITS, faults: ListenerFaults = IGNORE_FAULTS): void {
  const open = new Set<Socket>();
  const out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  server.on('connection', (socket: Socket) => {
    counters.tcpConnections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    serveConnection(socket, handler, out, counters, limits, faults);
  });
  openConnections.set(server, open);
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => {
    counters.tcpConnectionsRejected++;
  });
  // Accept failures (EMFILE, ENFILE) and the like: the listener keeps listening.
  server.on('error', (error) => {
    counters.tcpListenerErrors++;
    faults('listener', error);
  });
}

/** Binds a TCP listener; resolves once it listens. */
export function listenTcp(
  host: string,
  port: number,
  handler: PacketHandler,
  counters: ListenerCounters,
  limits: TcpLimits = DEFAULT_TCP_LIMITS,
  faults: ListenerFaults = IGNORE_FAULTS,
): Promise<Server> {
  const server = createServer({ noDelay: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':'), exclusive: true }, () => {
      server.off('error', reject);
      serveTcp(server, handler, counters, limits, faults);
      resolve(server);
    });
  });
}
