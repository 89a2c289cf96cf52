/**
 * "Server under test": anything that can serve the contract zone (or, for the comparison, the
 * comparison zone of bench/lib/compare-zone.ts) on an address and be stopped by its own PID.
 * Meridian serves both; PowerDNS (geoip backend) and gdnsd serve the comparison zone only, written
 * into their own work directory in their own configuration language at start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  gdnsdConfig, gdnsdZoneFile, pdnsConf, pdnsZonesYaml, type ComparisonZone, type HealthCheck,
} from './compare-zone.js';
import { ECDSAP256SHA256, newCombinedKey, writeKeyFiles } from '../../src/dnssec/index.js';
import { loadBatchedUdp } from '../../src/wire/batched-udp.js';
import { benchQuery, waitUntilAnswering } from './net.js';
import { startProcess, stopProcess, tailOfFile } from './processes.js';

export interface ServerVariant {
  /** health checking on (Meridian: default) or off (`--no-health`) */
  health: boolean;
  /** server processes (Meridian --workers N); 1 = a single process */
  workers: number;
  /**
   * The zones are signed with a fresh ECDSA P-256 CSK per zone: Meridian with `--keys`, PowerDNS
   * with `geoip-dnssec-keydir` and a key made by `pdnsutil secure-zone` (it then signs online)
   */
  dnssec?: boolean;
  /** Meridian's UDP I/O (`--io`); unset: its default, `auto` (batched where the native module is built) */
  io?: 'dgram' | 'batched';
}

/** What Meridian's default `--io auto` uses on this machine: batched where native/batched-udp is built and loads. */
export function defaultMeridianIo(): 'batched' | 'dgram' {
  return loadBatchedUdp() !== null ? 'batched' : 'dgram';
}

/** The UDP I/O a Meridian row runs with: the one it asks for, else the default's choice here. */
export function effectiveIo(variant: ServerVariant): 'batched' | 'dgram' {
  return variant.io ?? defaultMeridianIo();
}

export interface StartOptions {
  host: string;
  port: number;
  /** a private copy of the contract zones (zones/) */
  zonesDir: string;
  variant: ServerVariant;
  /** taskset CPU list for the server, or null */
  cpus: string | null;
  /** scratch directory for this start (configs, logs) */
  workDir: string;
  logFile: string;
  /** write V8 CPU profiles (*.cpuprofile, one per process and worker thread) into this directory when the server stops (servers that cannot: ignore) */
  cpuProfileDir?: string;
  /** set for comparison scenarios: serve the comparison zone with this GeoIP file and health check */
  comparison?: ComparisonSetup;
}

export interface ComparisonSetup {
  zone: ComparisonZone;
  /** the GeoIP2-Country-schema file every server reads */
  geoipFile: string;
  check: HealthCheck;
  /** Meridian's zones directory holding the comparison zone (YAML) */
  meridianZonesDir: string;
}

export interface RunningServer {
  pid: number;
  host: string;
  port: number;
  commandLine: string;
  /** one line: how it was configured (processes/threads, caches, health) */
  config: string;
  /** a signed server: the zone's key-signing DNSKEY RDATA in presentation form (`257 3 13 BASE64`), which the preflight checks every RRSIG against */
  trustAnchor?: string;
  isRunning(): boolean;
  /** stop by PID: SIGTERM, SIGKILL after a grace period */
  stop(): Promise<{ forced: boolean; code: number | null; signal: string | null }>;
}

export interface ServerUnderTest {
  id: string;
  label: string;
  /** whether it serves the whole contract zone (the Meridian-only scenarios) or only the comparison zone */
  contractZone: boolean;
  /** null when it can run here, else why not (the run then skips it) */
  unavailable(repoRoot: string): string | null;
  describe(repoRoot: string): string;
  start(options: StartOptions, repoRoot: string): Promise<RunningServer>;
  /** false for the floor, whose answers are its queries: no preflight, no rcode check, no ratios */
  readonly answersChecked?: false;
}

/** Any server is ready once it answers a query for the contract zone's SOA. */
const READY_PROBE = benchQuery('example.test', 'SOA', { id: 0x5ead });
const READY_TIMEOUT_MS = 15_000;

/** Wrap a started process as a RunningServer and wait until it answers (stopping it if it does not). */
async function runningOnceAnswering(
  proc: ReturnType<typeof startProcess>,
  options: StartOptions,
  config: string,
  trustAnchor?: string,
): Promise<RunningServer> {
  const running: RunningServer = {
    pid: proc.pid,
    host: options.host,
    port: options.port,
    commandLine: proc.commandLine,
    config,
    trustAnchor,
    isRunning: proc.isRunning,
    stop: () => stopProcess(proc.pid),
  };
  try {
    await waitUntilAnswering(options.host, options.port, READY_PROBE, READY_TIMEOUT_MS, proc.isRunning);
  } catch (error) {
    await running.stop().catch(() => undefined);
    throw new Error(`${(error as Error).message}\n--- ${options.logFile} ---\n${tailOfFile(options.logFile)}`);
  }
  return running;
}

function firstLine(command: string, args: string[]): string | null {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return out.trim().split('\n')[0] ?? null;
  } catch (error) {
    // gdnsd and pdns_server print their version on stderr and exit non-zero for an unknown action
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n')[0] ?? null;
  }
}

function debianVersion(pkg: string): string | null {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

const CPUS = (() => {
  try {
    return Math.max(1, Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || 1);
  } catch {
    return 1;
  }
})();

/** The zone every server answers the readiness probe for, and whose key the preflight checks signatures with. */
const BENCH_ZONE = 'example.test';

/**
 * A combined signing key for every zone file in `zonesDir` (its `zone:` line), written into
 * `keysDir`; returns BENCH_ZONE's DNSKEY RDATA in presentation form.
 */
async function writeBenchKeys(zonesDir: string, keysDir: string): Promise<string> {
  mkdirSync(keysDir, { recursive: true });
  const now = Math.floor(Date.now() / 1000) - 60;
  let anchor = '';
  for (const file of readdirSync(zonesDir).filter((name) => /\.ya?ml$/.test(name))) {
    const origin = /^zone:\s*(\S+)/m.exec(readFileSync(path.join(zonesDir, file), 'utf8'))?.[1];
    if (origin === undefined) continue;
    const key = newCombinedKey(origin, ECDSAP256SHA256, now);
    await writeKeyFiles(keysDir, key);
    if (key.zone === BENCH_ZONE) anchor = `${key.flags} 3 ${key.algorithm.code} ${key.publicKey.toString('base64')}`;
  }
  if (anchor === '') throw new Error(`no zone file for ${BENCH_ZONE} in ${zonesDir}`);
  return anchor;
}

export const meridian: ServerUnderTest = {
  id: 'meridian',
  label: 'Meridian',
  contractZone: true,
  unavailable(repoRoot) {
    return existsSync(path.join(repoRoot, 'dist/cli/main.js')) ? null : 'dist/cli/main.js missing: run npm run build';
  },
  describe(repoRoot) {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version?: string };
    let rev = '';
    try {
      rev = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
      if (dirty !== '') rev += '+dirty src';
    } catch {
      // not a git checkout
    }
    const node = process.env.BENCH_MERIDIAN_NODE;
    const version = node === undefined ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    return `Meridian ${pkg.version ?? '?'}${rev ? ` (${rev})` : ''}, Node ${version}`;
  },
  async start(options, repoRoot) {
    // As `npm start`, the Dockerfile and the systemd unit run it.
    const nodeArgs: string[] = process.env.BENCH_MERIDIAN_NODE_FLAGS !== undefined ? process.env.BENCH_MERIDIAN_NODE_FLAGS.split(' ').filter(Boolean) : ['--max-semi-space-size=8', '--expose-gc'];
    if (options.cpuProfileDir) {
      // No --cpu-prof-name: cluster workers inherit these flags, and each process needs its own file.
      mkdirSync(options.cpuProfileDir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
    }
    const args = [
      ...nodeArgs,
      path.join(repoRoot, 'dist/cli/main.js'),
      'serve',
      '--zones', options.comparison?.meridianZonesDir ?? options.zonesDir,
      '--listen', `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
      '--log-level', 'warn',
    ];
    if (options.comparison) args.push('--geoip', options.comparison.geoipFile);
    if (!options.variant.health) args.push('--no-health');
    const keysDir = path.join(options.workDir, 'keys');
    const anchor = options.variant.dnssec ? await writeBenchKeys(options.comparison?.meridianZonesDir ?? options.zonesDir, keysDir) : undefined;
    if (anchor !== undefined) args.push('--keys', keysDir);
    if (options.variant.io !== undefined) args.push('--io', options.variant.io);
    // Always explicit: Meridian's default is one worker per CPU.
    args.push('--workers', String(options.variant.workers));
    const proc = startProcess({
      // BENCH_MERIDIAN_NODE: another node binary to run Meridian with (e.g. the Docker image's LTS).
      command: process.env.BENCH_MERIDIAN_NODE ?? process.execPath,
      args,
      cpus: options.cpus,
      logFile: options.logFile,
      cwd: options.workDir,
      label: 'meridian',
      // As npm start, the Dockerfile and the systemd unit set it.
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    });
    const w = options.variant.workers;
    const io = effectiveIo(options.variant);
    const sharing = io === 'batched' ? 'each its own UDP socket, SO_REUSEPORT' : 'on its sockets';
    const config = `${w === 1 ? '1 process' : `${w} processes (primary + ${w - 1} worker${w > 2 ? 's' : ''} ${sharing})`}, health ${options.variant.health ? 'on' : 'off'}` +
      (options.variant.io === undefined ? `, --io auto (${io} here)` : `, --io ${io}`) +
      (options.comparison ? ', --geoip (GeoIP2-Country copy)' : '') + (anchor !== undefined ? ', --keys (one P-256 CSK)' : '');
    const running = await runningOnceAnswering(proc, options, config, anchor);
    // Without the native module the server warns and answers through dgram: that row would not measure batched I/O.
    if (options.variant.io === 'batched' && /batched UDP I\/O unavailable/.test(tailOfFile(options.logFile))) {
      await running.stop();
      throw new Error('--io batched asked for, but native/batched-udp is not built here (npm install with a C compiler)');
    }
    return running;
  },
};

const PDNS = '/usr/sbin/pdns_server';
const PDNSUTIL = '/usr/bin/pdnsutil';
const GDNSD = '/usr/sbin/gdnsd';

function pdnsGeoipModule(): string | null {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/pdns', '/usr/lib/aarch64-linux-gnu/pdns', '/usr/lib/pdns', '/usr/lib64/pdns']) {
    if (existsSync(path.join(dir, 'libgeoipbackend.so'))) return dir;
  }
  try {
    // any other multiarch directory
    for (const d of readdirSync('/usr/lib')) {
      const dir = path.join('/usr/lib', d, 'pdns');
      if (existsSync(path.join(dir, 'libgeoipbackend.so'))) return dir;
    }
  } catch {
    // no /usr/lib
  }
  return null;
}

/**
 * PowerDNS Authoritative 4.7 with the geoip backend (`launch=geoip`), ECS on, default packet and
 * query caches. The geoip backend has no health checks: it always answers the first pool of a rule.
 */
export const powerdns: ServerUnderTest = {
  id: 'pdns',
  label: 'PowerDNS (geoip backend)',
  contractZone: false,
  unavailable() {
    if (!existsSync(PDNS) || !existsSync(PDNSUTIL)) return `${PDNS} or ${PDNSUTIL} missing (apt-get install pdns-server pdns-backend-geoip)`;
    if (pdnsGeoipModule() === null) return 'libgeoipbackend.so missing (apt-get install pdns-backend-geoip)';
    return null;
  },
  describe() {
    const v = debianVersion('pdns-server');
    const g = debianVersion('pdns-backend-geoip');
    return `PowerDNS Authoritative ${v ?? '?'} (Debian pdns-server), geoip backend ${g ?? '?'}`;
  },
  async start(options) {
    if (!options.comparison) throw new Error('pdns serves the comparison zone only');
    const c = options.comparison;
    const keyDir = options.variant.dnssec ? path.join(options.workDir, 'pdns-keys') : null;
    const zonesFile = path.join(options.workDir, 'geo-zones.yaml');
    writeFileSync(zonesFile, pdnsZonesYaml(c.zone));
    // BENCH_PDNS_THREADS=R:D overrides receiver-threads:distributor-threads (for tuning experiments)
    const [r, d] = (process.env.BENCH_PDNS_THREADS ?? '').split(':').map(Number);
    const receiverThreads = r && r > 0 ? r : Math.min(CPUS, 4);
    const distributorThreads = d && d > 0 ? d : 1;
    writeFileSync(
      path.join(options.workDir, 'pdns.conf'),
      pdnsConf({
        host: options.host,
        port: options.port,
        geoipFile: c.geoipFile,
        zonesFile,
        socketDir: options.workDir,
        receiverThreads,
        distributorThreads,
        dnssecKeyDir: keyDir,
      }),
    );
    const moduleDir = pdnsGeoipModule();
    const anchor = keyDir === null ? undefined : securePdnsZone(options.workDir, keyDir, c.zone.zone);
    const proc = startProcess({
      command: PDNS,
      args: [`--config-dir=${options.workDir}`, ...(moduleDir ? [`--module-dir=${moduleDir}`] : [])],
      cpus: options.cpus,
      logFile: options.logFile,
      cwd: options.workDir,
      label: 'pdns',
    });
    return runningOnceAnswering(
      proc,
      options,
      `1 process, ${receiverThreads} receiver threads (SO_REUSEPORT) × ${distributorThreads} distributor, packet cache on (default), no health checks (geoip backend has none)` +
        (anchor !== undefined ? ', signed online (geoip-dnssec-keydir, one P-256 CSK from pdnsutil secure-zone; NSEC3 narrow)' : ''),
      anchor,
    );
  },
};

/**
 * Signs `zone` the way a PowerDNS operator does: `pdnsutil secure-zone` (one ECDSA P-256 CSK,
 * PowerDNS's default) writes the key into the geoip backend's `geoip-dnssec-keydir`, from which
 * pdns_server signs every answer online (the geoip backend serves NSEC3 in narrow mode: denials
 * are hashed "white lies", signed per query). Returns the CSK's DNSKEY RDATA in presentation form.
 */
function securePdnsZone(configDir: string, keyDir: string, zone: string): string {
  mkdirSync(keyDir, { recursive: true });
  const util = (...args: string[]): string => {
    try {
      // pdnsutil has no --module-dir: it loads the backend from the packaged module folder.
      return execFileSync(PDNSUTIL, [`--config-dir=${configDir}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    } catch (error) {
      throw new Error(`pdnsutil ${args.join(' ')}: ${String((error as { stderr?: string }).stderr ?? error).trim()}`);
    }
  };
  util('secure-zone', zone);
  const dnskey = / IN DNSKEY (257 3 \d+ \S+)/.exec(util('export-zone-dnskey', zone, '1'))?.[1];
  if (dnskey === undefined) throw new Error(`pdnsutil secure-zone ${zone}: no key-signing DNSKEY in ${keyDir}`);
  return dnskey;
}

/** gdnsd 3 with plugin_geoip (map by continent/country) and http_status monitoring of every pool address. */
export const gdnsd: ServerUnderTest = {
  id: 'gdnsd',
  label: 'gdnsd (plugin_geoip)',
  contractZone: false,
  unavailable() {
    return existsSync(GDNSD) ? null : `${GDNSD} missing (apt-get install gdnsd)`;
  },
  describe() {
    const v = debianVersion('gdnsd');
    return `gdnsd ${v ?? firstLine(GDNSD, ['-h']) ?? '?'} (Debian)`;
  },
  async start(options) {
    if (!options.comparison) throw new Error('gdnsd serves the comparison zone only');
    const c = options.comparison;
    const configDir = path.join(options.workDir, 'gdnsd');
    mkdirSync(path.join(configDir, 'zones'), { recursive: true });
    const udpThreads = Math.min(CPUS, 4);
    writeFileSync(
      path.join(configDir, 'config'),
      gdnsdConfig(c.zone, {
        host: options.host,
        port: options.port,
        geoipFile: c.geoipFile,
        runDir: path.join(options.workDir, 'gdnsd-run'),
        stateDir: path.join(options.workDir, 'gdnsd-state'),
        udpThreads,
        check: c.check,
      }),
    );
    writeFileSync(path.join(configDir, 'zones', c.zone.zone), gdnsdZoneFile(c.zone));
    const proc = startProcess({
      command: GDNSD,
      args: ['-c', configDir, 'start'],
      cpus: options.cpus,
      logFile: options.logFile,
      cwd: options.workDir,
      label: 'gdnsd',
    });
    return runningOnceAnswering(proc, options, `1 process, ${udpThreads} UDP threads (SO_REUSEPORT), http_status health checks every ${c.check.intervalS} s`);
  },
};

const FLOOR_SOURCE = 'bench/lib/floor-responder.c';

/**
 * The floor (bench/lib/floor-responder.c): a C program that answers each query with itself,
 * recvmmsg/sendmmsg on one blocking thread, no DNS work. Not a DNS server and never judged: its
 * row says what latency and CPU this machine gives any responder at the same load in the same run,
 * which is what a server's tail must be read against on a shared VM. Compiled with cc per run.
 */
export const floor: ServerUnderTest = {
  id: 'floor',
  label: 'floor (C echo, no DNS work)',
  contractZone: false,
  answersChecked: false,
  unavailable(repoRoot) {
    if (!existsSync(path.join(repoRoot, FLOOR_SOURCE))) return `${FLOOR_SOURCE} missing`;
    return firstLine('cc', ['--version']) === null ? 'no C compiler (cc)' : null;
  },
  describe() {
    return `${FLOOR_SOURCE} built with ${firstLine('cc', ['--version']) ?? 'cc'}`;
  },
  async start(options, repoRoot) {
    const binary = path.join(options.workDir, 'floor-responder');
    execFileSync('cc', ['-O2', '-o', binary, path.join(repoRoot, FLOOR_SOURCE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = startProcess({ command: binary, args: [options.host, String(options.port)], cpus: options.cpus, logFile: options.logFile, cwd: options.workDir, label: 'floor' });
    return runningOnceAnswering(proc, options, '1 process, 1 thread, recvmmsg/sendmmsg batches of 64, each query sent back as its answer');
  },
};

export const SERVERS: readonly ServerUnderTest[] = [meridian, powerdns, gdnsd, floor];
