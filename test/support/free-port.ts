/**
 * Ports for processes a test starts later (nats-server, a spawned Meridian, a peer DNS server): free
 * for TCP and UDP on 127.0.0.1 when asked, and drawn below the kernel's ephemeral range. A port from
 * that range (what binding port 0 gives) can be taken in the meantime as the source port of any
 * outgoing connection on the machine (a health probe, a NATS client), and the process started on it
 * then fails with EADDRINUSE.
 *
 * A port handed out is not bound yet, so the check alone cannot see it: a test that asks for several
 * before starting anything (a NATS cluster's client and route ports, an instance's DNS and admin
 * ports), or another test file asking meanwhile, could be given the same one. Each port handed out
 * is therefore reserved for RESERVATION_MS by a file in a folder every test process shares, and never
 * handed out twice by one process.
 */
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Longer than any test takes to start the process that binds a port it was given. */
const RESERVATION_MS = 120_000;
const RESERVATIONS = join(tmpdir(), 'meridian-test-ports');
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50 && low > 11_000; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (handedOut.has(port) || !reserve(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) return handOut(port);
  }
  // No room below the range (or no luck): any port free for both right now.
  for (;;) {
    const port = await listenTcp(0);
    if (!handedOut.has(port) && (await udpFree(port))) return handOut(port);
  }
}

function handOut(port: number): number {
  handedOut.add(port);
  return port;
}

/** Takes the port's reservation file unless another process holds a fresh one. */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  try {
    mkdirSync(RESERVATIONS, { recursive: true });
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no shared folder: the check alone decides
  }
  try {
    if (Date.now() - statSync(file).mtimeMs < RESERVATION_MS) return false;
    const now = new Date();
    utimesSync(file, now, now);
    return true;
  } catch {
    return false;
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
