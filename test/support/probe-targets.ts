/**
 * test/support/probe-targets: real local servers for health-check tests, on loopback only.
 * HTTP/HTTPS targets can be stopped, restarted on the same address:port, switched to another
 * status or body, or made to hang; TCP targets can be stopped and restarted; a "blackhole" TCP
 * target completes no handshake, so a connect probe against it runs into its timeout.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer } from 'node:net';
import type { Server as TcpServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request as an HTTP target saw it. */
export interface SeenRequest {
  readonly host: string | undefined;
  readonly path: string;
}

/** A running (or stopped) local HTTP or HTTPS server whose answers a test controls. */
export interface HttpTarget {
  readonly address: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Every request received so far, in order. */
  readonly requests: SeenRequest[];
  /** Answer this status from now on. */
  setStatus(status: number): void;
  /** Answer this body from now on. */
  setBody(body: string): void;
  /** While true, requests are accepted but never answered. */
  setHang(hang: boolean): void;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same address and port. */
  restart(): Promise<void>;
}

/** A plain TCP listener that accepts and closes connections. */
export interface TcpTarget {
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** Options for an HTTP(S) target. */
export interface HttpTargetOptions {
  /** Loopback address to listen on (any of 127.0.0.0/8); default 127.0.0.1. */
  readonly address?: string;
  /** Port; default 0 (ephemeral, then kept across restarts). */
  readonly port?: number;
  readonly status?: number;
  readonly body?: string;
}

const LISTEN_TIMEOUT_MS = 5000;

function assertLoopback(address: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) && address !== '::1') {
    throw new Error(`probe targets listen on loopback only, not ${address}`);
  }
}

function listen(server: HttpServer | TcpServer, address: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listen ${address}:${port} timed out`)), LISTEN_TIMEOUT_MS);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    server.once('error', onError);
    server.listen({ host: address, port, exclusive: true }, () => {
      clearTimeout(timer);
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    });
  });
}

function closeServer(server: HttpServer | TcpServer, sockets: Set<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}

let certPromise: Promise<{ key: string; cert: string }> | undefined;

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, made once per process with openssl. */
export function selfSignedCert(): Promise<{ key: string; cert: string }> {
  certPromise ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-cert-'));
    try {
      const keyFile = join(dir, 'key.pem');
      const certFile = join(dir, 'cert.pem');
      await new Promise<void>((resolve, reject) => {
        execFile(
          'openssl',
          [
            'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=meridian-test',
            '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
          ],
          { timeout: 10_000 },
          (err) => (err ? reject(new Error(`openssl failed (is it installed?): ${err.message}`)) : resolve()),
        );
      });
      return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return certPromise;
}

async function startWebTarget(protocol: 'http' | 'https', options: HttpTargetOptions): Promise<HttpTarget> {
  const address = options.address ?? '127.0.0.1';
  assertLoopback(address);
  let status = options.status ?? 200;
  let body = options.body ?? 'ok\n';
  let hang = false;
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const tls = protocol === 'https' ? await selfSignedCert() : undefined;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({ host: req.headers.host, path: req.url ?? '' });
    // A hanging target keeps the connection open and never writes: the probe must time out.
    if (hang) return;
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(body);
  };
  const make = (): HttpServer => {
    const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
    // Track raw sockets so stop() can cut hanging connections too.
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    // A probe that gives up mid-handshake makes TLS emit errors here; they are expected.
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  };

  let server = make();
  const port = await listen(server, address, options.port ?? 0);
  return {
    address,
    port,
    protocol,
    requests,
    setStatus: (s) => {
      status = s;
    },
    setBody: (b) => {
      body = b;
    },
    setHang: (h) => {
      hang = h;
    },
    stop: () => closeServer(server, sockets),
    restart: async () => {
      await closeServer(server, sockets);
      server = make();
      await listen(server, address, port);
    },
  };
}

/** Starts a local HTTP target answering `status` (default 200) with `body` (default "ok\n"). */
export function startHttpTarget(options: HttpTargetOptions = {}): Promise<HttpTarget> {
  return startWebTarget('http', options);
}

/** Starts a local HTTPS target with a self-signed certificate (see selfSignedCert). */
export function startHttpsTarget(options: HttpTargetOptions = {}): Promise<HttpTarget> {
  return startWebTarget('https', options);
}

/** Starts a TCP listener that accepts every connection and closes it at once. */
export async function startTcpTarget(options: { address?: string; port?: number } = {}): Promise<TcpTarget> {
  const address = options.address ?? '127.0.0.1';
  assertLoopback(address);
  const sockets = new Set<Socket>();
  let accepted = 0;
  const make = (): TcpServer =>
    createTcpServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => sockets.delete(socket));
      socket.end();
    });
  let server = make();
  const port = await listen(server, address, options.port ?? 0);
  return {
    address,
    port,
    accepted: () => accepted,
    stop: () => closeServer(server, sockets),
    restart: async () => {
      await closeServer(server, sockets);
      server = make();
      await listen(server, address, port);
    },
  };
}

/** A TCP port where connection attempts hang (no SYN-ACK): for connect-timeout tests. */
export interface BlackholeTarget {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

// The child listens with a backlog of 1 and then blocks its event loop, so it never accepts;
// once the kernel's accept queue is full, further SYNs are dropped and connect() hangs.
const BLACKHOLE_CHILD = `
const net = require('node:net');
const server = net.createServer();
server.listen({ host: process.argv[1], port: 0, backlog: 1 }, () => {
  process.stdout.write(String(server.address().port) + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
  process.exit(0);
});
`;

function tryConnect(address: string, port: number, waitMs: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, waitMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** Starts a blackhole TCP target on `address` (Linux loopback): a child process plus filler connections. */
export async function startBlackholeTcpTarget(address = '127.0.0.1'): Promise<BlackholeTarget> {
  assertLoopback(address);
  const child: ChildProcess = spawn(process.execPath, ['-e', BLACKHOLE_CHILD, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('blackhole child did not start')), LISTEN_TIMEOUT_MS);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        resolve(Number(line));
      }
    });
    child.once('exit', () => reject(new Error('blackhole child exited early')));
  }).catch((err: unknown) => {
    killChild();
    throw err;
  });
  // Fill the accept queue: connections complete until it is full; the first one that does not is the proof.
  const fillers: Socket[] = [];
  let hung = false;
  for (let i = 0; i < 16 && !hung; i++) {
    const socket = await tryConnect(address, port, 300);
    if (socket === null) hung = true;
    else fillers.push(socket);
  }
  const stop = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    killChild();
  };
  if (!hung) {
    await stop();
    throw new Error('could not fill the accept queue of the blackhole target');
  }
  return { address, port, stop };
}

/** Retries a group start on another port when one of its addresses is already taken on the port it got. */
export async function onOnePort<T extends { stop(): Promise<void>; port: number }>(
  addresses: readonly string[],
  start: (address: string, port: number) => Promise<T>,
): Promise<{ port: number; targets: T[] }> {
  for (let attempt = 0; ; attempt++) {
    const started: T[] = [];
    try {
      let port = 0;
      for (const address of addresses) {
        const target = await start(address, port);
        started.push(target);
        port = target.port;
      }
      return { port, targets: started };
    } catch (err) {
      await Promise.all(started.map((target) => target.stop()));
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 8) throw err;
    }
  }
}

/** HTTP (or HTTPS) targets on the given loopback addresses, all on one OS-chosen port (a zone check has one port); stopped after the test. */
export async function httpGroup(
  t: { after(fn: () => unknown): void },
  addresses: readonly string[],
  options: Omit<HttpTargetOptions, 'address' | 'port'> & { https?: boolean } = {},
): Promise<{ port: number; targets: HttpTarget[] }> {
  const { https, ...rest } = options;
  const group = await onOnePort(addresses, (address, port) => (https ? startHttpsTarget : startHttpTarget)({ ...rest, address, port }));
  t.after(() => Promise.all(group.targets.map((target) => target.stop())));
  return group;
}
