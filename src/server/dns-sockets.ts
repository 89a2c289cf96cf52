/**
 * The DNS sockets of one process: a UDP socket and a TCP listener on the same port for each
 * listen address (bound here, or handed over by a cluster primary), all answering through one
 * packet handler.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { formatListenAddress, type ListenAddress } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';
import { BatchedUdpSocket, loadBatchedUdp, type BatchedUdpStats } from '../wire/index.js';
import {
  closeTcpListener,
  listenTcp,
  listenUdp,
  serveTcp,
  serveUdp,
  type ListenerCounters,
  type ListenerFaults,
  type PacketHandler,
  type TcpLimits,
} from '../wire/index.js';

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** The native module binds address literals: `--listen localhost:PORT` is the one name allowed. */
function batchedHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

/** How UDP is read and answered: dgram, or the native batched module (recvmmsg/sendmmsg). */
export type UdpIo = 'dgram' | 'batched';
/**
 * What `--io` asks for: `auto` (the default) is batched where the native module is built and loads,
 * dgram elsewhere (a machine without a compiler is normal); `batched` asked for explicitly falls
 * back to dgram with a warning.
 */
export type UdpIoChoice = UdpIo | 'auto';
export const UDP_IO_CHOICES: readonly UdpIoChoice[] = ['auto', 'batched', 'dgram'];

/** The I/O a choice gets here; says which at info level, or warns when `batched` cannot be had. */
function chooseUdpIo(asked: UdpIoChoice, logger: Logger | undefined): UdpIo {
  const built = loadBatchedUdp() !== null;
  const io: UdpIo = asked === 'dgram' || !built ? 'dgram' : 'batched';
  if (asked === 'batched' && !built) {
    logger?.warn({ reason: 'native/batched-udp is not built here, or from older source (npm install builds it; it needs Linux and a C compiler)' }, 'batched UDP I/O unavailable: answering through dgram');
  } else if (io === 'batched') {
    logger?.info({ io }, 'UDP I/O: batched (recvmmsg/sendmmsg, native/batched-udp)');
  } else {
    logger?.info({ io }, asked === 'auto' ? 'UDP I/O: dgram (native/batched-udp is not built here)' : 'UDP I/O: dgram (--io dgram)');
  }
  return io;
}

export class DnsSockets {
  /** The addresses actually bound (port 0 resolved), in the order of `tcp`. */
  readonly addresses: ListenAddress[] = [];
  /** The dgram sockets (none with batched I/O, whose sockets are `batched`). */
  readonly udp: UdpSocket[] = [];
  readonly batched: BatchedUdpSocket[] = [];
  readonly tcp: TcpServer[] = [];
  /** The I/O in use: 'batched' when asked for (or `auto`) and the native module is built. */
  readonly io: UdpIo;

  constructor(
    private readonly handler: PacketHandler,
    private readonly counters: ListenerCounters,
    private readonly limits: TcpLimits,
    private readonly faults: ListenerFaults,
    io: UdpIoChoice = 'auto',
    /** Says once which I/O answers (a cluster worker's says nothing: its primary has). */
    logger?: Logger,
    /**
     * Batched I/O in a cluster primary: bind UDP with SO_REUSEPORT, so that each worker binds a
     * socket of its own on the same address (`adopt({ udpPort })`); the kernel spreads flows over them.
     */
    private readonly udpPortShared = false,
  ) {
    this.io = chooseUdpIo(io, logger);
  }

  /** The batched sockets' system calls and datagrams, summed (zeros with dgram). */
  batchedStats(): BatchedUdpStats {
    const sum: BatchedUdpStats = { receiveCalls: 0, sendCalls: 0, datagramsIn: 0, datagramsOut: 0, sendFailures: 0, tooLong: 0, receiveErrors: 0 };
    for (const socket of this.batched) {
      const stats = socket.stats();
      for (const key of Object.keys(sum) as (keyof BatchedUdpStats)[]) sum[key] += stats[key];
    }
    return sum;
  }

  /**
   * Brings what the batched sockets counted in the module since their last batch (failed sends and
   * receives) into the listener counters, before they are read.
   */
  settleCounters(): void {
    for (const socket of this.batched) socket.settleErrors();
  }

  /** Binds UDP and TCP on each address, in order; `announce` says each one listening. */
  async bind(addresses: readonly ListenAddress[], announce: Logger): Promise<void> {
    for (const address of addresses) {
      const pair = await this.bindPair(address);
      if (pair.udp instanceof BatchedUdpSocket) this.batched.push(pair.udp);
      else this.udp.push(pair.udp);
      this.tcp.push(pair.tcp);
      this.addresses.push(pair.bound);
      const port = (pair.tcp.address() as AddressInfo).port;
      announce.info({ address: formatListenAddress(pair.bound), transport: 'udp' }, `listening on ${formatListenAddress(pair.bound)} udp`);
      announce.info({ address: formatListenAddress({ host: pair.bound.host, port }), transport: 'tcp' }, `listening on ${formatListenAddress(pair.bound)} tcp`);
    }
  }

  /**
   * Answers on a socket bound elsewhere (a cluster primary's), from this very turn; or, with
   * batched I/O (`udpPort`), binds a socket of its own beside the primary's on the same address.
   */
  adopt(socket: { udp: UdpSocket; address: ListenAddress } | { tcp: TcpServer } | { udpPort: ListenAddress }): void {
    if ('udpPort' in socket) {
      const { host, port } = socket.udpPort;
      this.batched.push(BatchedUdpSocket.open(batchedHost(host), port, this.handler, this.counters, this.faults, true));
      this.addresses.push(socket.udpPort);
    } else if ('udp' in socket) {
      serveUdp(socket.udp, this.handler, this.counters, this.faults);
      this.udp.push(socket.udp);
      this.addresses.push(socket.address);
    } else {
      serveTcp(socket.tcp, this.handler, this.counters, this.limits, this.faults);
      this.tcp.push(socket.tcp);
    }
  }

  /** Closes every socket and open TCP connection. */
  async close(): Promise<void> {
    for (const socket of this.batched) socket.close();
    await Promise.all([...this.udp.map(closeUdp), ...this.tcp.map(closeTcpListener)]);
  }

  /** Binds UDP and TCP on the same address and port (with port 0, the port UDP was given). */
  private async bindPair(address: ListenAddress): Promise<{ udp: UdpSocket | BatchedUdpSocket; tcp: TcpServer; bound: ListenAddress }> {
    for (let attempt = 0; ; attempt++) {
      const udp = this.io === 'batched'
        ? BatchedUdpSocket.open(batchedHost(address.host), address.port, this.handler, this.counters, this.faults, this.udpPortShared)
        : await listenUdp(address.host, address.port, this.handler, this.counters, this.faults);
      const port = udp instanceof BatchedUdpSocket ? udp.port() : udp.address().port;
      try {
        const tcp = await listenTcp(address.host, port, this.handler, this.counters, this.limits, this.faults);
        return { udp, tcp, bound: { host: address.host, port } };
      } catch (error) {
        if (udp instanceof BatchedUdpSocket) udp.close();
        else await closeUdp(udp);
        // An ephemeral UDP port can be taken on the TCP side; try another pair a few times.
        if (address.port !== 0 || attempt >= 5) throw error;
      }
    }
  }
}
