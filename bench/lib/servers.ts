/**
 * "Server under test": anything that can serve the contract zone on an address and be stopped by
 * its own PID. Meridian is the only one today; PowerDNS (geoip backend) and gdnsd will be added as
 * further entries of SERVERS, each translating the contract zone into its own configuration in
 * `prepare` and reporting its version in `describe`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeQuery } from './dns-wire.js';
import { waitUntilAnswering } from './net.js';
import { startProcess, stopProcess, tailOfFile } from './processes.js';

export interface ServerVariant {
  /** health checking on (Meridian: default) or off (`--no-health`) */
  health: boolean;
  /** server processes (Meridian --workers N); 1 = a single process */
  workers: number;
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
}

export interface RunningServer {
  pid: number;
  host: string;
  port: number;
  commandLine: string;
  isRunning(): boolean;
  /** stop by PID: SIGTERM, SIGKILL after a grace period */
  stop(): Promise<{ forced: boolean; code: number | null; signal: string | null }>;
}

export interface ServerUnderTest {
  id: string;
  label: string;
  /** null when it can run here, else why not (the run then skips it) */
  unavailable(repoRoot: string): string | null;
  describe(repoRoot: string): string;
  start(options: StartOptions, repoRoot: string): Promise<RunningServer>;
}

/** Any server is ready once it answers a query for the contract zone's SOA. */
const READY_PROBE = encodeQuery('example.test', 'SOA', { id: 0x5ead });
const READY_TIMEOUT_MS = 15_000;

export const meridian: ServerUnderTest = {
  id: 'meridian',
  label: 'Meridian',
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
    return `Meridian ${pkg.version ?? '?'}${rev ? ` (${rev})` : ''}, Node ${process.version}`;
  },
  async start(options, repoRoot) {
    const nodeArgs: string[] = [];
    if (options.cpuProfileDir) {
      // No --cpu-prof-name: cluster workers inherit these flags, and each process needs its own file.
      mkdirSync(options.cpuProfileDir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
    }
    const args = [
      ...nodeArgs,
      path.join(repoRoot, 'dist/cli/main.js'),
      'serve',
      '--zones', options.zonesDir,
      '--listen', `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
      '--log-level', 'warn',
    ];
    if (!options.variant.health) args.push('--no-health');
    // Always explicit: Meridian's default is one worker per CPU.
    args.push('--workers', String(options.variant.workers));
    const proc = startProcess({
      command: process.execPath,
      args,
      cpus: options.cpus,
      logFile: options.logFile,
      cwd: options.workDir,
      label: 'meridian',
    });
    const running: RunningServer = {
      pid: proc.pid,
      host: options.host,
      port: options.port,
      commandLine: proc.commandLine,
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
  },
};

export const SERVERS: readonly ServerUnderTest[] = [meridian];
