/**
 * Ports for processes a test starts later (nats-server, a spawned Meridian, a peer DNS server): free
 * for TCP and UDP on 127.0.0.1 when asked, and drawn below the kernel's ephemeral range. A port from
 * that range (what binding port 0 gives) can be taken in the meantime as the source port of any
 * outgoing connection on the machine (a health probe, a NATS client), and the process started on it
 * then fails with EADDRINUSE.
 */
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50 && low > 11_000; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
  // No room below the range (or no luck): any port free for both right now.
  for (;;) {
    const port = await listenTcp(0);
    if (await udpFree(port)) return port;
  }
}

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** Listens on 127.0.0.1:port over TCP, closes, and gives the port it listened on. */
function listenTcp(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

const tcpFree = (port: number): Promise<boolean> => listenTcp(port).then(() => true, () => false);

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
