/**
 * test/support/fleet-instances: real `meridian serve --fleet` processes on loopback for the fleet
 * tests, each on ports picked once (kept across restarts), with a loopback probe source of its own;
 * and a local HTTP target that answers 503 to the probe sources a test chooses.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { spawnCli, waitFor } from './e2e.js';
import { query, type Address } from './dns-client.js';
import { freePort } from './nats-server.js';

export interface FleetInstance {
  readonly name: string;
  readonly source: string;
  readonly dns: Address;
  readonly admin: string;
  readonly running: boolean;
  start(extra?: readonly string[]): Promise<void>;
  /** SIGTERM and wait (a clean stop frees the name at once). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  output(): string;
  /** The A records answered for `name`, sorted. */
  answer(name: string): Promise<string[]>;
  status(): Promise<FleetStatus>;
}

export interface FleetStatus {
  fleet: {
    alone: string | null;
    connection: string;
    instances: { instance: string; live: boolean }[];
    targets: { probeKey: string; check: string; quorum: string; verdict: string | null; status: string; disagree: boolean; views: { instance: string; status: string; fresh: boolean }[] }[];
  };
}

export async function fleetInstance(t: { after(fn: () => unknown): void }, options: { name: string; source: string; zones: string; fleet: string; stateFile: string }): Promise<FleetInstance> {
  const dnsPort = await freePort();
  const adminPort = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const args = (extra: readonly string[]) => [
    'serve', '--zones', options.zones, '--listen', `127.0.0.1:${dnsPort}`, '--admin', `127.0.0.1:${adminPort}`, '--no-geo', '--workers', '1',
    '--fleet', options.fleet, '--instance', options.name, '--probe-source', options.source, '--state-file', options.stateFile, '--log-format', 'json', ...extra,
  ];
  const gone = (process: ChildProcess): Promise<void> =>
    process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : new Promise((resolve) => process.once('exit', () => resolve()));
  const instance: FleetInstance = {
    name: options.name,
    source: options.source,
    dns: { host: '127.0.0.1', port: dnsPort },
    admin: `127.0.0.1:${adminPort}`,
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async start(extra = []) {
      const started = spawnCli(args(extra));
      child = started;
      started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      await waitFor(`${options.name} to answer`, async () => {
        if (started.exitCode !== null) throw new Error(`${options.name} exited ${started.exitCode}: ${output.slice(-2000)}`);
        const response = await fetch(`http://${instance.admin}/readyz`);
        return response.ok;
      }, 30_000, 50);
    },
    async stop() {
      if (child === null) return;
      const running = child;
      running.kill('SIGTERM');
      await gone(running);
    },
    async kill() {
      if (child === null) return;
      const running = child;
      running.kill('SIGKILL');
      await gone(running);
    },
    output: () => output,
    async answer(name) {
      const response = await query(instance.dns, name, 'A', { timeoutMs: 1000 });
      return response.answer.filter((record) => record.type === 'A').map((record) => record.data).sort();
    },
    async status() {
      const response = await fetch(`http://${instance.admin}/status`);
      return (await response.json()) as FleetStatus;
    },
  };
  t.after(() => instance.kill());
  return instance;
}

/**
 * A zone whose `www` fails over from `main` (checked over HTTP on the target's port, every second,
 * rise and fall 1) to `backup`: the answer tells the verdict. `check` adds to the check (`timeout:
 * 400ms`, `quorum: all`).
 */
export function failoverZone(zone: string, target: { address: string; port: number }, backup: string, check: string): string {
  return [
    `zone: ${zone}`,
    'ttl: 5',
    `soa: { mname: ns1.${zone}, rname: hostmaster.${zone}, serial: 1 }`,
    'records:',
    `  "@": { NS: [ns1.${zone}] }`,
    '  ns1: { A: 192.0.2.53 }',
    '  www: { failover: [main, backup] }',
    'pools:',
    `  main: { members: [${target.address}], check: web }`,
    `  backup: { members: [${backup}] }`,
    'checks:',
    `  web: { type: http, port: ${target.port}, path: /, interval: 1s, rise: 1, fall: 1, ${check} }`,
    '',
  ].join('\n');
}

/** A local HTTP target answering 200, or 503 to the probe sources in `failing`. */
export interface SourceTarget {
  readonly address: string;
  readonly port: number;
  /** The sources answered 503 from now on. */
  failFor(...sources: string[]): void;
  close(): Promise<void>;
}

export async function sourceTarget(address: string): Promise<SourceTarget> {
  let failing = new Set<string>();
  const server: Server = createServer((request, response) => {
    const from = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    response.writeHead(failing.has(from) ? 503 : 200, { connection: 'close' });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address,
    port,
    failFor(...sources) {
      failing = new Set(sources);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
