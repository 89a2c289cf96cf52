/**
 * Issue 5, "Query log", end to end: real queries against a real Meridian (in this process, and
 * the real CLI), and the JSON lines it writes read back from the file.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query, type Address } from '../support/dns-client.js';
import { cliInProcess, spawnCli, waitFor } from '../support/e2e.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/start-test-server.js';

// ---- helpers -------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


const ZONE = `zone: log.test
ttl: 60
soa: { mname: ns1.log.test, rname: hostmaster.log.test, serial: 1 }
records:
  "@": { NS: [ns1.log.test] }
  ns1: { A: 192.0.2.53 }
  plain: { A: 192.0.2.10 }
  www: { geo: { default: [web] } }
  api: { failover: [primary, standby] }
pools:
  web: { members: [192.0.2.1, 192.0.2.2] }
  primary: { members: [192.0.2.5] }
  standby: { members: [192.0.2.6] }
`;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-qlog-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(t: TestContext, options: Partial<TestServerOptions> = {}): Promise<TestServer> {
  const server = await startTestServer({ zones: { 'log.yaml': ZONE }, healthDisabled: true, watchZones: false, ...options });
  t.after(() => server.close());
  return server;
}

type LogLine = Record<string, unknown>;

async function readLines(file: string): Promise<LogLine[]> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  // Only whole lines: the writer may be mid-line.
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as LogLine);
}

/** Waits until the file holds `count` lines, then a little longer to show no more arrive. */
async function linesOf(file: string, count: number): Promise<LogLine[]> {
  await waitFor(`${count} lines in ${file}`, async () => (await readLines(file)).length >= count, 3000);
  await sleep(100);
  return readLines(file);
}

async function rcodeOf(address: Address, name: string, type = 'A', options: Parameters<typeof query>[3] = {}): Promise<string> {
  return (await query(address, name, type, { timeoutMs: 1000, ...options })).rcodeName;
}

/** The fields a reader of the log relies on, with the timestamp checked and dropped. */
function fields(line: LogLine): LogLine {
  const { time, level, ...rest } = line;
  assert.ok(typeof time === 'string' && !Number.isNaN(Date.parse(time)), `an ISO time: ${String(time)}`);
  assert.equal(level, 30);
  return rest;
}

// ---- tests ---------------------------------------------------------------------------------------

test('sampleEvery 1: one JSON line per query with client, name, type, rcode, pool and rule (and ecs when sent)', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'queries.log');
  const server = await serve(t, { queryLog: { destination: file, sampleEvery: 1 } });

  assert.equal(await rcodeOf(server.v4, 'www.log.test'), 'NOERROR');
  assert.equal(await rcodeOf(server.v4, 'www.log.test', 'A', { edns: { clientSubnet: '198.51.100.0/24' } }), 'NOERROR');
  assert.equal(await rcodeOf(server.v4, 'api.log.test', 'A', { tcp: true }), 'NOERROR');
  assert.equal(await rcodeOf(server.v4, 'plain.log.test', 'A'), 'NOERROR');
  assert.equal(await rcodeOf(server.v4, 'missing.log.test', 'AAAA'), 'NXDOMAIN');
  assert.equal(await rcodeOf(server.v4, 'www.elsewhere.invalid', 'A'), 'REFUSED');
  assert.equal(await rcodeOf(server.v6, 'Www.Log.Test', 'A'), 'NOERROR');

  const lines = (await linesOf(file, 7)).map(fields);
  assert.equal(lines.length, 7, 'one line per query');
  assert.deepEqual(lines[0], { client: '127.0.0.1', name: 'www.log.test', type: 'A', transport: 'udp', rcode: 'NOERROR', zone: 'log.test', pool: 'web', rule: 'default', outcome: 'primary' });
  assert.deepEqual(lines[1], {
    client: '127.0.0.1',
    ecs: '198.51.100.0/24',
    name: 'www.log.test',
    type: 'A',
    transport: 'udp',
    rcode: 'NOERROR',
    zone: 'log.test',
    pool: 'web',
    rule: 'default',
    outcome: 'primary',
    scope: 0,
  });
  assert.deepEqual(lines[2], { client: '127.0.0.1', name: 'api.log.test', type: 'A', transport: 'tcp', rcode: 'NOERROR', zone: 'log.test', pool: 'primary', rule: 'failover', outcome: 'primary' });
  assert.deepEqual(lines[3], { client: '127.0.0.1', name: 'plain.log.test', type: 'A', transport: 'udp', rcode: 'NOERROR', zone: 'log.test' });
  assert.deepEqual(lines[4], { client: '127.0.0.1', name: 'missing.log.test', type: 'AAAA', transport: 'udp', rcode: 'NXDOMAIN', zone: 'log.test' });
  assert.deepEqual(lines[5], { client: '127.0.0.1', name: 'www.elsewhere.invalid', type: 'A', transport: 'udp', rcode: 'REFUSED' });
  assert.deepEqual(lines[6], { client: '::1', name: 'www.log.test', type: 'A', transport: 'udp', rcode: 'NOERROR', zone: 'log.test', pool: 'web', rule: 'default', outcome: 'primary' });
  for (const line of lines) assert.equal('ecs' in line, line === lines[1], 'ecs only when the query carried one');
});

test('sampleEvery 10: exactly one query in ten is logged (the 10th, 20th, ...)', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sampled.log');
  const server = await serve(t, { queryLog: { destination: file, sampleEvery: 10 } });
  const total = 50;
  for (let i = 1; i <= total; i++) assert.equal(await rcodeOf(server.v4, `q${i}.log.test`), 'NXDOMAIN');
  const lines = await linesOf(file, total / 10);
  assert.deepEqual(
    lines.map((line) => line.name),
    [10, 20, 30, 40, 50].map((i) => `q${i}.log.test`),
  );
  // Nine more queries do not reach the next sample.
  for (let i = 1; i <= 9; i++) await rcodeOf(server.v4, `r${i}.log.test`);
  await sleep(200);
  assert.equal((await readLines(file)).length, total / 10);
});

test('closing the server flushes the query log and closes its file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'closing.log');
  const server = await startTestServer({ zones: { 'log.yaml': ZONE }, healthDisabled: true, watchZones: false, queryLog: { destination: file, sampleEvery: 1 } });
  t.after(() => server.close());
  for (let i = 0; i < 20; i++) await rcodeOf(server.v4, 'plain.log.test');
  await server.close();
  assert.equal((await readLines(file)).length, 20, 'every line is on disk once close() resolves');
  const open: string[] = [];
  for (const fd of await readdir('/proc/self/fd').catch(() => [] as string[])) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target === file) open.push(fd);
  }
  assert.deepEqual(open, [], 'no descriptor of the log file is left open');
});

/** Starts `meridian serve` on 127.0.0.1:0 and returns its DNS address once it listens. */
async function spawnServe(t: TestContext, args: readonly string[]): Promise<{ address: Address; stdout: () => string; child: ChildProcess }> {
  const child = spawnCli(['serve', '--listen', '127.0.0.1:0', '--no-geo', '--no-health', '--no-watch', '--workers', '1', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  const port = await waitFor(
    'serve to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
      const match = /"msg":"listening on 127\.0\.0\.1:(\d+) udp"/.exec(stdout);
      return match ? Number(match[1]) : undefined;
    },
    20_000,
    50,
  );
  return { address: { host: '127.0.0.1', port }, stdout: () => stdout, child };
}

test('the CLI: --query-log FILE with --query-log-sample N, and no query log at all without --query-log', async (t) => {
  const dir = await tempDir(t);
  const zones = join(dir, 'zones');
  await mkdir(zones);
  await writeFile(join(zones, 'log.yaml'), ZONE);
  const file = join(dir, 'cli-queries.log');

  const logged = await spawnServe(t, ['--zones', zones, '--query-log', file, '--query-log-sample', '3']);
  for (let i = 1; i <= 12; i++) assert.equal(await rcodeOf(logged.address, `c${i}.log.test`), 'NXDOMAIN');
  const lines = await linesOf(file, 4);
  assert.deepEqual(
    lines.map((line) => line.name),
    ['c3.log.test', 'c6.log.test', 'c9.log.test', 'c12.log.test'],
  );
  assert.ok(!logged.stdout().includes('"rcode"'), 'query lines go to the file, not to the server log');

  const before = new Set(await readdir(dir));
  const quiet = await spawnServe(t, ['--zones', zones]);
  for (let i = 0; i < 10; i++) assert.equal(await rcodeOf(quiet.address, 'plain.log.test'), 'NOERROR');
  await sleep(200);
  assert.ok(!quiet.stdout().includes('"rcode"'), 'no query lines without --query-log');
  assert.deepEqual(new Set(await readdir(dir)), before, 'no file created');

  // `-` writes the query lines to stdout, beside the server's own log lines.
  const toStdout = await spawnServe(t, ['--zones', zones, '--query-log', '-', '--query-log-sample', '1']);
  for (let i = 0; i < 3; i++) assert.equal(await rcodeOf(toStdout.address, 'www.log.test'), 'NOERROR');
  const stdoutLines = await waitFor(
    'three query lines on stdout',
    () => {
      const found = toStdout
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"rcode"'))
        .map((line) => JSON.parse(line) as LogLine);
      return found.length >= 3 ? found : undefined;
    },
    3000,
  );
  assert.deepEqual(
    stdoutLines.map((line) => [line.name, line.type, line.rcode, line.pool, line.rule]),
    Array.from({ length: 3 }, () => ['www.log.test', 'A', 'NOERROR', 'web', 'default']),
  );

  const bad = await cliInProcess(['serve', '--zones', zones, '--listen', '127.0.0.1:0', '--query-log', file, '--query-log-sample', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--query-log-sample must be a whole number/);
});
