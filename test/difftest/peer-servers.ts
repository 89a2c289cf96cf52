/**
 * Knot and NSD as reference servers: each started in the foreground on a loopback port chosen at
 * run time, with its configuration, database and run files in a temporary folder (no system
 * service, nothing outside that folder), serving the given RFC 1035 zone files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query, type Address } from '../support/dns-client.js';
import { freePort } from '../support/free-port.js';

export interface MasterZone {
  origin: string;
  masterFile: string;
}

export interface PeerServer {
  name: string;
  address: Address;
  close(): Promise<void>;
}

/** A Debian server binary: on the PATH, or in /usr/sbin (not on a plain user's PATH). */
export function findBinary(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Waits until every zone's SOA is answered with AA, or the process exits, or `timeoutMs` passes. */
async function waitUntilServing(name: string, child: ChildProcess, output: () => string, address: Address, zones: readonly MasterZone[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  const pending = new Set(zones.map((zone) => zone.origin));
  while (pending.size > 0) {
    if (exited) throw new Error(`${name} exited before serving: ${output()}`);
    if (Date.now() > deadline) throw new Error(`${name} did not serve ${[...pending].slice(0, 3).join(', ')} within ${timeoutMs} ms: ${output()}`);
    await Promise.all(
      [...pending].map(async (origin) => {
        const reply = await query(address, origin, 'SOA', { timeoutMs: 200 }).catch(() => null);
        if (reply?.flags.aa && reply.answer.length === 1) pending.delete(origin);
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A server started as `binary ...args(config file)`, its configuration written from `config(dir, port)`. */
interface PeerSpec {
  name: string;
  binary: string;
  config: (dir: string, port: number) => string[];
  args: (configFile: string) => string[];
}

async function startPeer(spec: PeerSpec, zones: readonly MasterZone[]): Promise<PeerServer> {
  const dir = await mkdtemp(join(tmpdir(), `difftest-${spec.name}-`));
  // Knot keeps its database (and mod-onlinesign its keys) there; it must exist.
  await mkdir(join(dir, 'db'));
  for (const zone of zones) await writeFile(join(dir, `${zone.origin}.zone`), zone.masterFile);
  const port = await freePort();
  const configFile = join(dir, `${spec.name}.conf`);
  await writeFile(configFile, `${spec.config(dir, port).join('\n')}\n`);
  const child = spawn(spec.binary, spec.args(configFile), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const address = { host: '127.0.0.1', port };
  try {
    await waitUntilServing(spec.name, child, () => output.slice(-2000), address, zones, 20_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { name: spec.name, address, close };
}

/**
 * knotd with one UDP and one TCP worker, zones loaded from their files and never written back;
 * with `cookieSecret` (32 hex digits), its mod-cookies module on with that secret; with `rrl`, its
 * mod-rrl module on with that rate limit and slip (after mod-cookies, as Knot's docs order them);
 * with `onlineSign`, every zone signed on the fly by mod-onlinesign (a CSK it makes itself) with
 * RFC 9824's NXNAME as the bitmap of a name that does not exist.
 */
export function startKnot(zones: readonly MasterZone[], options: { cookieSecret?: string; rrl?: { rate: number; slip: number }; onlineSign?: boolean } = {}): Promise<PeerServer> {
  const binary = findBinary('knotd');
  if (binary === null) throw new Error('knotd not found: install the Debian package "knot" (.ci/run does)');
  const modules = [...(options.cookieSecret === undefined ? [] : ['mod-cookies/default']), ...(options.rrl === undefined ? [] : ['mod-rrl/default'])];
  const config = (dir: string, port: number): string[] => [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'database:',
    `    storage: "${join(dir, 'db')}"`,
    'log:',
    '  - target: stderr',
    '    any: error',
    ...(options.cookieSecret === undefined ? [] : ['mod-cookies:', '  - id: default', `    secret: 0x${options.cookieSecret}`]),
    ...(options.rrl === undefined ? [] : ['mod-rrl:', '  - id: default', `    rate-limit: ${options.rrl.rate}`, `    slip: ${options.rrl.slip}`]),
    ...(options.onlineSign === true ? ['mod-onlinesign:', '  - id: compact', '    nsec-bitmap: [TYPE128]'] : []),
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    zonefile-sync: -1',
    '    journal-content: none',
    ...(modules.length === 0 ? [] : [`    global-module: [${modules.join(', ')}]`]),
    'zone:',
    ...zones.map((zone) => `  - domain: ${zone.origin}\n    file: "${zone.origin}.zone"${options.onlineSign === true ? '\n    module: mod-onlinesign/compact' : ''}`),
  ];
  return startPeer({ name: 'knot', binary, config, args: (file) => ['-c', file] }, zones);
}

/** nsd in the foreground, one server process, no database file, no remote control. */
export function startNsd(zones: readonly MasterZone[]): Promise<PeerServer> {
  const binary = findBinary('nsd');
  if (binary === null) throw new Error('nsd not found: install the Debian package "nsd"');
  const config = (dir: string, port: number): string[] => [
    'server:',
    `    ip-address: 127.0.0.1@${port}`,
    '    server-count: 1',
    '    username: ""',
    '    chroot: ""',
    `    zonesdir: "${dir}"`,
    `    pidfile: "${join(dir, 'nsd.pid')}"`,
    '    database: ""',
    `    zonelistfile: "${join(dir, 'zone.list')}"`,
    `    xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `    xfrdir: "${dir}"`,
    `    logfile: "${join(dir, 'nsd.log')}"`,
    '    verbosity: 0',
    'remote-control:',
    '    control-enable: no',
    ...zones.map((zone) => `zone:\n    name: ${zone.origin}\n    zonefile: "${zone.origin}.zone"`),
  ];
  return startPeer({ name: 'nsd', binary, config, args: (file) => ['-d', '-c', file] }, zones);
}
