/**
 * The sockets. UDP: one datagram in, at most one out. TCP: 2-byte length framing (RFC 1035
 * §4.2.2), several queries per connection answered in order (RFC 7766 §6.2.1), and limits that
 * keep any one client from holding the server hostage (`TcpLimits`): a connection cap in total
 * and per client address, backpressure (a connection whose answers go unread is not read
 * either), a deadline for each message from its first byte, an idle timeout between messages,
 * and a bound on queries per connection. The packet handler is synchronous and never throws (it
 * is wrapped here anyway): one bad request must not stop the socket. Errors are counted and
 * handed to a `ListenerFaults` callback, which must not log on the spot (it runs per packet).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup, type LookupOneOptions } from 'node:dns';
import { createServer, type Server, type Socket } from 'node:net';
import type { Transport } from './query.js';
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
  /** UDP datagrams dropped unread because they were longer than a batched socket's 4 KiB slot (dgram reads any). */
  udpTooLong: number;
  tcpReceived: number;
  tcpConnections: number;
  /** Refused at the total connection cap. */
  tcpConnectionsRejected: number;
  /** Refused because their client address already held `maxConnectionsPerClient`. */
  tcpClientLimitRejections: number;
  /** Closed because a message did not arrive whole within `messageTimeoutMs` of its first byte. */
  tcpMessageTimeouts: number;
  /** Closed after `idleTimeoutMs` without traffic (between messages, or with answers unread). */
  tcpIdleTimeouts: number;
  /** Closed (answers sent first) after `maxQueriesPerConnection` queries. */
  tcpQueryLimitCloses: number;
  /** Times reading a connection stopped because its unsent answers passed `maxPendingOutputBytes`. */
  tcpReadPauses: number;
  handlerErrors: number;
  sendErrors: number;
  tcpListenerErrors: number;
}

export function newListenerCounters(): ListenerCounters {
  return {
    udpReceived: 0,
    udpTooLong: 0,
    tcpReceived: 0,
    tcpConnections: 0,
    tcpConnectionsRejected: 0,
    tcpClientLimitRejections: 0,
    tcpMessageTimeouts: 0,
    tcpIdleTimeouts: 0,
    tcpQueryLimitCloses: 0,
    tcpReadPauses: 0,
    handlerErrors: 0,
    sendErrors: 0,
    tcpListenerErrors: 0,
  };
}

/**
 * Told of every error a socket meets after it is counted: the handler threw, a send or a UDP
 * socket failed, a TCP listener failed. Called on the query path: note it, log it later.
 */
export type ListenerFaults = (kind: 'handler' | 'send' | 'listener', error: unknown) => void;

const IGNORE_FAULTS: ListenerFaults = () => undefined;

export interface TcpLimits {
  /** Time without traffic after which a connection is closed (between messages). */
  idleTimeoutMs: number;
  /** A message must arrive whole within this time of its first byte (Knot: 500 ms), else the connection is closed. */
  messageTimeoutMs: number;
  /** Open connections per process, in total. */
  maxConnections: number;
  /** Open connections per client address and process, so one address cannot take every slot. */
  maxConnectionsPerClient: number;
  /** Queries answered on one connection, after which it is closed once its answers are sent. */
  maxQueriesPerConnection: number;
  /** Unsent answer bytes above which the connection is not read until the client takes them. */
  maxPendingOutputBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  idleTimeoutMs: 10_000,
  messageTimeoutMs: 2000,
  maxConnections: 512,
  maxConnectionsPerClient: 10,
  maxQueriesPerConnection: 1000,
  maxPendingOutputBytes: 32 * 1024,
};

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
 * One send in this many is given a completion callback, which is how dgram reports a failed send.
 * A callback costs every send a tick of its own and ~600 bytes of garbage (half of what a datagram
 * allocates in dgram), so the others go without: a send that fails keeps failing (a route, a
 * firewall), and one checked send in 64 still counts it.
 */
const SEND_CHECKED_EVERY = 64;
/** Responses up to this long are sent through a view of the output buffer kept per length. */
const VIEWS_UP_TO = 4096;

/**
 * Answers every datagram arriving on a bound socket (one this process bound, or one handed to it).
 *
 * Every answer is written into one output buffer per socket and sent from it. That is safe because
 * of how dgram sends: it first tries the system call at once (libuv's uv_udp_try_send), and the
 * kernel copies the datagram before `send` returns; only when the socket's send buffer is full is
 * the request queued, and then libuv keeps pointing at our bytes until the send completes. So
 * after each send, if the socket has anything queued (getSendQueueCount), the buffer is left to
 * that send and the next answer gets a new one: the old one lives as long as the queued send
 * holds it, and nothing rewrites it. The send goes through a view of the buffer, made once per
 * response length, so dgram has nothing to slice.
 */
export function serveUdp(socket: UdpSocket, handler: PacketHandler, counters: ListenerCounters, faults: ListenerFaults = IGNORE_FAULTS): void {
  // One completion callback for every checked send, not a closure per answer.
  const afterSend = (error: Error | null): void => {
    if (error) {
      counters.sendErrors++;
      faults('send', error);
    }
  };
  let out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  let views: (Buffer | undefined)[] = [];
  let unchecked = 0;
  socket.on('message', (packet, remote) => {
    counters.udpReceived++;
    const length = safeHandle(handler, packet, 'udp', remote.address, out, counters, faults);
    if (length === 0) return;
    const view = length <= VIEWS_UP_TO ? (views[length] ??= out.subarray(0, length)) : out.subarray(0, length);
    if (++unchecked === SEND_CHECKED_EVERY) {
      unchecked = 0;
      socket.send(view, remote.port, remote.address, afterSend);
    } else socket.send(view, remote.port, remote.address);
    if (socket.getSendQueueCount() !== 0) {
      out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
      views = [];
    }
  });
  // Socket errors after binding (ICMP-induced, send failures) must not crash the process.
  socket.on('error', (error) => {
    counters.sendErrors++;
    faults('send', error);
  });
}

/**
 * The receive buffer asked of the kernel for each UDP socket (capped by net.core.rmem_max). The
 * default (~208 KB, about 270 queries) overflows during a burst while the loop is busy with a reload
 * or a GC, and the kernel then drops queries from every client alike; NSD and gdnsd ask for MiBs too.
 * Batched UDP sockets (batched-udp.ts) ask the native module for the same.
 */
export const UDP_RECEIVE_BUFFER_BYTES = 4 << 20;

/** Binds a UDP socket; resolves once it listens. */
export function listenUdp(host: string, port: number, handler: PacketHandler, counters: ListenerCounters, faults: ListenerFaults = IGNORE_FAULTS): Promise<UdpSocket> {
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const socket = createSocket({ type: family, ipv6Only: family === 'udp6', lookup: literalAddress, recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      serveUdp(socket, handler, counters, faults);
      resolve(socket);
    });
  });
}

/**
 * One TCP connection: reads frames, answers each in order, and enforces the per-connection
 * limits. Every way it ends after answering is end(), so the answers already written go out
 * first (RFC 7766 §6.2.3), bounded by the idle timeout; destroy() only for timeouts and errors.
 */
class DnsConnection {
  private readonly peer: string;
  /** Bytes read but not yet answered: a partial message, or whole ones held back by backpressure. */
  private input: Buffer | null = null;
  private answered = 0;
  private paused = false;
  private closing = false;
  private messageTimer: NodeJS.Timeout | null = null;
  /**
   * The output bound, never below the socket's high-water mark: past that mark a write asks for
   * 'drain', the event that resumes reading.
   */
  private readonly pauseAbove: number;

  /** `out`: the listener's output buffer, shared by its connections (each response is copied out into its frame at once). */
  constructor(
    private readonly socket: Socket,
    private readonly handler: PacketHandler,
    private readonly out: Buffer,
    private readonly counters: ListenerCounters,
    private readonly limits: TcpLimits,
    private readonly faults: ListenerFaults,
  ) {
    this.peer = socket.remoteAddress ?? '';
    this.pauseAbove = Math.max(limits.maxPendingOutputBytes, socket.writableHighWaterMark);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs, () => {
      counters.tcpIdleTimeouts++;
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.stopMessageTimer());
    socket.on('data', (chunk: Buffer) => {
      if (this.closing) return;
      this.input = this.input === null ? chunk : Buffer.concat([this.input, chunk]);
      this.answerWhatArrived();
    });
    socket.on('drain', () => {
      if (!this.paused || this.closing) return;
      this.paused = false;
      socket.resume();
      this.answerWhatArrived();
    });
  }

  /** Answers every whole message in `input`, until backpressure or a limit stops it. */
  private answerWhatArrived(): void {
    const buffer = this.input;
    if (buffer === null) return;
    const socket = this.socket;
    const out = this.out;
    let offset = 0;
    let completed = false;
    while (buffer.length - offset >= 2) {
      const length = buffer.readUInt16BE(offset);
      if (buffer.length - offset - 2 < length) break;
      const message = buffer.subarray(offset + 2, offset + 2 + length);
      offset += 2 + length;
      completed = true;
      this.counters.tcpReceived++;
      const responseLength = safeHandle(this.handler, message, 'tcp', this.peer, out, this.counters, this.faults);
      if (responseLength === 0) {
        // RFC 7766 §6.2.4 allows closing after a message we will not answer (garbage, responses).
        this.close();
        return;
      }
      const frame = Buffer.allocUnsafe(2 + responseLength);
      frame.writeUInt16BE(responseLength, 0);
      out.copy(frame, 2, 0, responseLength);
      socket.write(frame);
      if (++this.answered >= this.limits.maxQueriesPerConnection) {
        this.counters.tcpQueryLimitCloses++;
        this.close();
        return;
      }
      if (socket.writableLength > this.pauseAbove) {
        // Backpressure: what is not answered yet waits, unread, until the client reads.
        this.input = offset < buffer.length ? buffer.subarray(offset) : null;
        this.stopMessageTimer();
        this.paused = true;
        this.counters.tcpReadPauses++;
        socket.pause();
        return;
      }
    }
    if (offset === buffer.length) {
      this.input = null;
      this.stopMessageTimer();
      return;
    }
    // Copy so a partial frame does not pin the whole chunk it arrived in.
    this.input = offset === 0 ? buffer : Buffer.from(buffer.subarray(offset));
    // A message that completed here started the deadline's clock for itself, not for the next one.
    if (completed) this.stopMessageTimer();
    if (this.messageTimer === null) {
      this.messageTimer = setTimeout(() => {
        this.counters.tcpMessageTimeouts++;
        socket.destroy();
      }, this.limits.messageTimeoutMs);
    }
  }

  private stopMessageTimer(): void {
    if (this.messageTimer !== null) {
      clearTimeout(this.messageTimer);
      this.messageTimer = null;
    }
  }

  /** Reads nothing more, sends what is written, then closes; a client that never reads is cut off at the idle timeout. */
  private close(): void {
    this.closing = true;
    this.input = null;
    this.stopMessageTimer();
    // Reading on (and discarding) lets the client's FIN arrive, so the slot frees at once.
    this.socket.end();
    const deadline = setTimeout(() => this.socket.destroy(), this.limits.idleTimeoutMs);
    this.socket.once('close', () => clearTimeout(deadline));
  }
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
  const perClient = new Map<string, number>();
  const out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    const held = perClient.get(client) ?? 0;
    if (held >= limits.maxConnectionsPerClient) {
      counters.tcpClientLimitRejections++;
      socket.destroy();
      return;
    }
    perClient.set(client, held + 1);
    counters.tcpConnections++;
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      const left = perClient.get(client)! - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    new DnsConnection(socket, handler, out, counters, limits, faults);
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
