/**
 * The DNS sockets of one process: a UDP socket and a TCP listener on the same port for each
 * listen address (bound here, or handed over by a cluster primary), all answering through one
 * packet handler.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { formatListenAddress, type ListenAddress } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';
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

export class DnsSockets {
  /** The addresses actually bound (port 0 resolved), in the order of `udp` and `tcp`. */
  readonly addresses: ListenAddress[] = [];
  readonly udp: UdpSocket[] = [];
  readonly tcp: TcpServer[] = [];

  constructor(
    private readonly handler: PacketHandler,
    private readonly counters: ListenerCounters,
    private readonly limits: TcpLimits,
    private readonly faults: ListenerFaults,
  ) {}

  /** Binds UDP and TCP on each address, in order; `announce` says each one listening. */
  async bind(addresses: readonly ListenAddress[], announce: Logger): Promise<void> {
    for (const address of addresses) {
      const pair = await this.bindPair(address);
      this.udp.push(pair.udp);
      this.tcp.push(pair.tcp);
      this.addresses.push(pair.bound);
      const port = (pair.tcp.address() as AddressInfo).port;
      announce.info({ address: formatListenAddress(pair.bound), transport: 'udp' }, `listening on ${formatListenAddress(pair.bound)} udp`);
      announce.info({ address: formatListenAddress({ host: pair.bound.host, port }), transport: 'tcp' }, `listening on ${formatListenAddress(pair.bound)} tcp`);
    }
  }

  /** Answers on a socket bound elsewhere (a cluster primary's), from this very turn. */
  adopt(socket: { udp: UdpSocket; address: ListenAddress } | { tcp: TcpServer }): void {
    if ('udp' in socket) {
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
    await Promise.all([...this.udp.map(closeUdp), ...this.tcp.map(closeTcpListener)]);
  }

  /** Binds UDP and TCP on the same address and port (with port 0, the port UDP was given). */
  private async bindPair(address: ListenAddress): Promise<{ udp: UdpSocket; tcp: TcpServer; bound: ListenAddress }> {
    for (let attempt = 0; ; attempt++) {
      const udp = await listenUdp(address.host, address.port, this.handler, this.counters, this.faults);
      const port = udp.address().port;
      try {
        const tcp = await listenTcp(address.host, port, this.handler, this.counters, this.limits, this.faults);
        return { udp, tcp, bound: { host: address.host, port } };
      } catch (error) {
        await closeUdp(udp);
        // An ephemeral UDP port can be taken on the TCP side; try another pair a few times.
        if (address.port !== 0 || attempt >= 5) throw error;
      }
    }
  }
}
