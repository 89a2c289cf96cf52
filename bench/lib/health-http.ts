/**
 * The pool members' health endpoint for the comparison: one tiny node:http server per member
 * address (127.0.x.y, all on loopback) on one port chosen at run time, answering 200 on the check
 * path and 404 elsewhere. It runs inside the driver (whose CPU is not counted as any server's) and
 * is closed at the end of the run. Every server's health checks probe it, so all pools are up.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthEndpoint {
  addresses: string[];
  port: number;
  path: string;
  /** requests answered so far (per address) — proof that the servers' checks really ran */
  hits: Map<string, number>;
  close(): Promise<void>;
}

function listen(address: string, port: number, handler: http.RequestListener): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 5_000;
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export async function startHealthEndpoint(addresses: string[], path = '/healthz'): Promise<HealthEndpoint> {
  const hits = new Map<string, number>(addresses.map((a) => [a, 0]));
  const handler: http.RequestListener = (req, res) => {
    const local = req.socket.localAddress ?? '';
    hits.set(local, (hits.get(local) ?? 0) + 1);
    const ok = (req.url ?? '').split('?')[0] === path;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain', 'content-length': ok ? 3 : 10 });
    res.end(ok ? 'ok\n' : 'not found\n');
  };
  let lastError: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    const servers: http.Server[] = [];
    try {
      // the first address picks a free port (0), the others must get the same one
      const first = await listen(addresses[0]!, 0, handler);
      servers.push(first);
      const port = (first.address() as AddressInfo).port;
      for (const address of addresses.slice(1)) servers.push(await listen(address, port, handler));
      return {
        addresses,
        port,
        path,
        hits,
        close: async () => {
          for (const s of servers) s.closeAllConnections();
          await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        },
      };
    } catch (error) {
      lastError = error;
      for (const s of servers) s.close();
    }
  }
  throw new Error(`cannot start the health endpoint on ${addresses.join(', ')}: ${String(lastError)}`);
}
