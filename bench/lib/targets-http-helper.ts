/**
 * The probe targets of bench/targets.ts's probe-cost test, as a process of its own (so that its CPU
 * is not the driver's and can be reported apart): one node:http server per (address, port) —
 * ADDRESSES × PORTS listeners, e.g. 127.2.0.1–127.2.0.100 × BASE…BASE+49 = 5,000 — answering 200 on
 * PATH and 404 elsewhere. Prints "ready <listeners>" once every listener is bound, then, every
 * second, "hits <total>". Exit status 3 when a port is taken (the driver retries with another base).
 *
 *   node --import tsx bench/lib/targets-http-helper.ts --addresses 127.2.0.1-100 --base 21000 --ports 50 [--path /healthz]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    addresses: { type: 'string' },
    base: { type: 'string' },
    ports: { type: 'string', default: '1' },
    path: { type: 'string', default: '/healthz' },
  },
});

const range = /^(\d+\.\d+\.\d+\.)(\d+)-(\d+)$/.exec(values.addresses ?? '');
if (range === null || values.base === undefined) {
  process.stderr.write('usage: targets-http-helper --addresses A.B.C.X-Y --base PORT --ports N [--path /healthz]\n');
  process.exit(2);
}
const addresses: string[] = [];
for (let i = Number(range[2]); i <= Number(range[3]); i++) addresses.push(`${range[1]}${i}`);
if (!addresses.every((a) => a.startsWith('127.'))) {
  process.stderr.write('targets-http-helper: loopback (127.0.0.0/8) addresses only\n');
  process.exit(2);
}
const base = Number(values.base);
const ports = Number(values.ports);
const wanted = values.path;
let hits = 0;

const handler: http.RequestListener = (req, res) => {
  hits++;
  const ok = (req.url ?? '').split('?')[0] === wanted;
  res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain', 'content-length': ok ? 3 : 10, connection: 'close' });
  res.end(ok ? 'ok\n' : 'not found\n');
};

function listen(address: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 1000;
    server.once('error', reject);
    server.listen({ host: address, port, backlog: 1024 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const servers: http.Server[] = [];
try {
  for (let p = 0; p < ports; p++) {
    for (const address of addresses) servers.push(await listen(address, base + p));
  }
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(`targets-http-helper: ${String(error)}\n`);
  process.exit(code === 'EADDRINUSE' ? 3 : 1);
}
process.stdout.write(`ready ${servers.length}\n`);
setInterval(() => process.stdout.write(`hits ${hits}\n`), 1000);
const stop = (): void => {
  process.stdout.write(`stopping; hits ${hits}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
