/**
 * Logs for people: `meridian serve` spawned as an operator runs it. Piped (systemd,
 * Docker), it writes JSON lines; on a terminal (a real pseudo-terminal from `script`) or with
 * `--log-format pretty`, one readable line per record. Starting the sample zone with nothing
 * answering its health checks gives one summary of the members that are down, not a warning
 * per member and per pool list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliInProcess, contractZone, repoRoot, spawnCliCaptured, waitFor } from '../support/e2e.js';

async function sampleZones(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'example.test.yaml'), contractZone());
  return dir;
}

/** Processes whose command line contains `argument` (read from /proc). */
function pidsWithArgument(argument: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const SERVE = ['--listen', '127.0.0.1:0', '--workers', '1', '--no-watch'];

test('piped: JSON lines, and one start-up summary of the members found down instead of a line per member and per pool list', async (t) => {
  const zones = await sampleZones(t);
  const serve = spawnCliCaptured(t, ['serve', '--zones', zones, ...SERVE]);
  await waitFor('listening', () => /listening on .* tcp/.test(serve.stdout()), 20_000);
  serve.child.kill('SIGTERM');
  await waitFor('stopped', () => serve.child.exitCode !== null, 5000);
  const lines = serve.stdout().trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string; [key: string]: unknown });
  const warnings = lines.filter((line) => line.level >= 40);
  // Nothing answers the sample zone's checks (127.0.x.y:8080 and :8443): all 13 members are down.
  assert.equal(warnings.length, 1, JSON.stringify(warnings, null, 1));
  const summary = warnings[0]!;
  assert.match(summary.msg, /^first probes: 13 of 13 checked members are down, in app-all \(3\), frankfurt \(2\), london \(3\), primary \(1\), standby \(1\), tokyo \(1\), virginia \(2\); every pool is down for api\.example\.test, app\.example\.test, www\.example\.test/);
  assert.equal(summary.down, 13);
  assert.deepEqual(summary.names, ['api.example.test', 'app.example.test', 'www.example.test']);
  assert.ok(!lines.some((line) => line.msg.startsWith('member down') || line.msg.startsWith('every pool is down')), 'the details stay at debug level');
});

test('--log-format pretty: one line per record with time, level, message and fields; a bad format is a usage error', async (t) => {
  const zones = await sampleZones(t);
  const serve = spawnCliCaptured(t, ['serve', '--zones', zones, ...SERVE, '--no-health', '--log-format', 'pretty']);
  await waitFor('listening', () => /listening on .* tcp/.test(serve.stdout()), 20_000);
  serve.child.kill('SIGTERM');
  await waitFor('stopped', () => serve.child.exitCode !== null, 5000);
  const lines = serve.stdout().trim().split('\n');
  for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (INFO|WARN) {1,2}\S/, line);
  assert.ok(lines.some((line) => /^\S+ INFO  zone loaded {2}zone=example\.test file=\S+example\.test\.yaml serial=2026112201 names=11$/.test(line)), lines.join('\n'));

  const bad = await cliInProcess(['serve', '--zones', zones, ...SERVE, '--log-format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-format must be one of json, pretty/);
});

test('on a terminal the default is the pretty format', async (t) => {
  const zones = await sampleZones(t);
  const command = [process.execPath, ...CLI, 'serve', '--zones', zones, ...SERVE, '--no-health'].map((word) => `'${word}'`).join(' ');
  // `script` runs the server on a pseudo-terminal; its own process group is killed after the test.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // `script` puts the server in a session of its own, and the server takes the SIGHUP of the closing
  // terminal as a reload request: it is found by its unique zones folder and killed itself.
  t.after(async () => {
    for (const pid of [-child.pid!, ...pidsWithArgument(zones)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitFor('the server on the terminal to stop', () => pidsWithArgument(zones).length === 0, 5000);
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await waitFor('listening', () => /listening on .* tcp/.test(output), 20_000);
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} INFO  zone loaded {2}zone=example\.test /m);
  assert.doesNotMatch(plain, /^\{"level"/m);
  assert.match(output, /\x1b\[32mINFO/, 'levels are coloured on a terminal');
});
