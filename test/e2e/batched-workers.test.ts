/**
 * `serve --io batched --workers 2`: batched UDP sockets belong to the native module and cannot be
 * handed to a worker, so each process binds a socket of its own on the same address with
 * SO_REUSEPORT and the kernel spreads the senders' flows over them. Checked here through the real
 * CLI: two UDP sockets on the port, one per process; every answer right from both; a worker that
 * dies is replaced by one that binds the port again. Without the native module the server answers
 * through dgram, one shared socket, and says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBatchedUdp } from '../../src/wire/index.js';
import { query, type Address } from '../support/dns-client.js';
import { sleep, spawnCliCaptured, waitFor } from '../support/e2e.js';
import { holdsSocket, udpSocketsOnPort } from '../support/proc-net-udp.js';

const built = loadBatchedUdp() !== null;

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The worker processes of a primary (not other children, such as the esbuild service tsx may start). */
function childPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'cli/main'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The IPv4 UDP sockets bound to `port`: for each, which of `pids` hold it (sorted). */
function udpSocketsOn(port: number, pids: readonly number[]): number[][] {
  return udpSocketsOnPort(port)
    .map((socket) => pids.filter((pid) => holdsSocket(pid, socket.inode)).sort((a, b) => a - b))
    .sort((a, b) => a[0]! - b[0]!);
}

/** What udpSocketsOn should find: built, a socket per process; else the primary's dgram socket, held by both. */
function expectedSockets(primary: number, worker: number): number[][] {
  const sorted = [primary, worker].sort((a, b) => a - b);
  return built ? sorted.map((pid) => [pid]) : [sorted];
}

const ZONE = [
  'zone: batched.test',
  'ttl: 30',
  'soa: { mname: ns1.batched.test, rname: hostmaster.batched.test }',
  'records:',
  '  "@": { NS: [ns1.batched.test] }',
  '  ns1: { A: 192.0.2.53 }',
  '  static: { A: [192.0.2.1, 192.0.2.2] }',
  '',
].join('\n');

/** `rounds` × 100 queries at once, each from a fresh socket (a fresh source port, so a fresh flow); every answer checked. */
async function askFromFreshPorts(dns: Address, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const answers = await Promise.all(Array.from({ length: 100 }, () => query(dns, 'static.batched.test', 'A', { timeoutMs: 2000 })));
    for (const answer of answers) assert.deepEqual(answer.answer.map((record) => record.data).sort(), ['192.0.2.1', '192.0.2.2']);
  }
}

test('--io batched --workers 2: a socket of its own per process on the same port, every answer right from both, a replaced worker binds again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-batched-workers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'batched.yaml'), ZONE);
  const cli = spawnCliCaptured(t, ['serve', '--zones', dir, '--listen', '127.0.0.1:0', '--io', 'batched', '--workers', '2', '--no-geo', '--no-health', '--no-watch']);
  const messages = (): string[] =>
    cli.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
  const alive = (): void => {
    if (cli.child.exitCode !== null) throw new Error(`serve exited ${cli.child.exitCode}: ${cli.stderr()}${cli.stdout().slice(-600)}`);
  };
  const port = await waitFor('the primary to listen', () => {
    alive();
    for (const msg of messages()) {
      const match = /^listening on 127\.0\.0\.1:(\d+) udp$/.exec(msg);
      if (match) return Number(match[1]);
    }
    return undefined;
  }, 30_000, 50);
  await waitFor('both processes to answer', () => (alive(), messages().includes('answering in 2 processes')), 30_000, 50);
  const dns: Address = { host: '127.0.0.1', port };
  const primary = cli.child.pid!;
  const [worker] = childPids(primary);
  assert.ok(worker !== undefined, 'a worker process beside the primary');
  assert.equal(messages().some((msg) => /batched UDP I\/O unavailable/.test(msg)), !built, built ? 'batched I/O in use' : 'the fallback to dgram is said');

  // Built: one socket per process (SO_REUSEPORT); without the module, the primary's dgram socket, shared.
  assert.deepEqual(udpSocketsOn(port, [primary, worker]), expectedSockets(primary, worker), built ? 'a UDP socket on the port in each process' : 'one dgram socket, held by both');

  // Flows from 2,000 source ports: all answered right, and both processes take a share.
  const before = [cpuTicks(primary), cpuTicks(worker)];
  await askFromFreshPorts(dns, 20);
  const spent = [cpuTicks(primary) - before[0]!, cpuTicks(worker) - before[1]!];
  t.diagnostic(`CPU ticks on 2,000 queries: primary ${spent[0]}, worker ${spent[1]}`);
  assert.ok(spent[0]! > 0 && spent[1]! > 0, `both processes answered (CPU ticks ${spent.join(', ')})`);

  // A worker that dies: its socket leaves the group (the primary takes its flows); the
  // replacement binds the port again and answers its share.
  process.kill(worker, 'SIGKILL');
  const replacement = await waitFor('a replacement worker', () => {
    alive();
    const now = childPids(primary);
    return now.length === 1 && now[0] !== worker ? now[0] : undefined;
  }, 30_000, 50);
  await waitFor('the replacement to take its socket', () => (alive(), udpSocketsOn(port, [primary, replacement]).some((holders) => holders.includes(replacement))), 30_000, 50);
  assert.deepEqual(udpSocketsOn(port, [primary, replacement]), expectedSockets(primary, replacement), built ? 'the replacement bound its own socket beside the primary\'s' : 'the replacement holds the shared socket');
  const replacementBefore = cpuTicks(replacement);
  await askFromFreshPorts(dns, 20);
  assert.ok(cpuTicks(replacement) > replacementBefore, 'the replacement answers its share');

  const exited = new Promise<number | null>((resolve) => cli.child.once('exit', (code) => resolve(code)));
  cli.child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(5000).then(() => 'timeout' as const)]);
  assert.equal(code, 0, 'SIGTERM stops both processes cleanly');
});
