/** Helpers shared by the end-to-end tests: the contract zone, `dig`, and the real CLI. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEntry } from './compiled-build.js';
import type { Address } from './dns-client.js';
import { startTestServer, type TestServer, type TestServerOptions } from './start-test-server.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** zones/example.test.yaml, the contract zone, as text. */
export function contractZone(): string {
  return readFileSync(join(repoRoot, 'zones', 'example.test.yaml'), 'utf8');
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs: number, cwd = repoRoot): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({
        code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
        signal: failure?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}

/** Runs `dig @host -p port ARGS` with a short timeout and one try; returns its output. */
export async function dig(address: Address, args: readonly string[], timeoutMs = 8000): Promise<string> {
  const result = await run('dig', [`@${address.host}`, '-p', String(address.port), '+time=2', '+tries=1', ...args], timeoutMs);
  if (result.code !== 0) throw new Error(`dig ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** node's arguments that run the CLI: the build `npm test` makes when it is current, else the sources through tsx (compiled-build.ts). */
export const CLI = cliEntry();

/** Runs `meridian ARGS` to completion (from the repository root). */
export function runCli(args: readonly string[], timeoutMs = 20_000): Promise<ExecResult> {
  return run(process.execPath, [...CLI, ...args], timeoutMs);
}

/**
 * `meridian ARGS` run in this process through the CLI's own entry (runMeridian), its output and exit
 * code as runCli gives them: no node start-up or module loading per call (~0.05 vs ~0.45 s of CPU).
 * For what a command checks and says (flags, files, explanations); a spawned process stays the test of
 * what only a process shows (the exit code main.ts sets, signals, a server that answers). Only for runs
 * that end: a `serve` that passes its checks would start a server in this process, which fails here.
 */
export async function cliInProcess(args: readonly string[]): Promise<ExecResult> {
  const { KEEP_RUNNING, runMeridian } = await import('../../src/cli/run-meridian.js');
  let stdout = '';
  let stderr = '';
  const code = await runMeridian(args, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  if (code === KEEP_RUNNING) throw new Error(`meridian ${args.join(' ')} started a server in the test process`);
  return { code, signal: null, stdout, stderr };
}

/** `meridian explain ARGS` in this process (cliInProcess), for the tests that read many explanations; explain.test.ts still spawns the real command for live, offline and unreachable servers. */
export function explainInProcess(args: readonly string[]): Promise<ExecResult> {
  return cliInProcess(['explain', ...args]);
}

/** Starts `meridian ARGS` in the background; the caller must stop it. */
export function spawnCli(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A background `meridian ARGS` whose output is collected; killed after the test if still running. */
export interface CapturedCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

export function spawnCliCaptured(t: { after(fn: () => unknown): void }, args: readonly string[]): CapturedCli {
  const child = spawnCli(args);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `fn` every `stepMs` until it returns something other than undefined/false, or fails
 * after `timeoutMs` naming what it waited for (and the last error `fn` threw, if any).
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, stepMs = 25): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(stepMs);
  }
}

/**
 * The test kit's server as the DNS-core tests want it: health checking off (every member
 * counts as up, as issue 2 specifies until health lands) and no zone-folder watching.
 */
export function startCoreServer(options: TestServerOptions): Promise<TestServer> {
  return startTestServer({ healthDisabled: true, watchZones: false, ...options });
}
