/**
 * The real process: `meridian serve` spawned as an operator runs it. Port 0 means the only way
 * to learn the port is the log line `listening on HOST:PORT udp` (JSON lines on stdout, field
 * `address`). It logs one line per socket and per zone, answers, stops within 2 s on SIGTERM and
 * SIGINT with exit code 0, and exits non-zero with a clear message when a port is taken or a flag
 * is malformed. The other flag checks run in this process (cliInProcess: the CLI's own entry, its
 * output and exit code), as they need no process of their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSection, query, sendUdpMaybe, TcpConnection, type Address } from '../support/dns-client.js';
import { cliInProcess, contractZone, dig, spawnCli, sleep } from '../support/e2e.js';
import { loadBatchedUdp } from '../../src/wire/index.js';

const OTHER_ZONE = `
zone: other.test
soa: { mname: ns1.other.test, rname: hostmaster.other.test, serial: 5 }
records:
  "@": { NS: [ns1.other.test] }
  ns1: { A: 192.0.2.99 }
`;

interface LogLine {
  msg: string;
  address?: string;
  transport?: string;
  zone?: string;
  [key: string]: unknown;
}

interface Started {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Spawns `meridian serve ARGS` and waits until `ready(lines)` or the process exits (30 s at most:
 * a loaded machine starts tsx slowly). A process that is not ready in time is killed, so a failed
 * start cannot leave a server running that keeps the test file from ending.
 */
async function serve(args: string[], ready: (lines: LogLine[]) => boolean): Promise<Started> {
  const child = spawnCli(['serve', ...args]);
  const lines: LogLine[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const isReady = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready within 30 s; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (text.trim() === '') continue;
        lines.push(JSON.parse(text) as LogLine);
      }
      if (ready(lines)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await isReady;
  return { child, lines, stderr: () => stderr, exited };
}

function listening(lines: LogLine[]): LogLine[] {
  return lines.filter((line) => /^listening on /.test(line.msg));
}

/** "127.0.0.1:5300" or "[::1]:5300" → Address. */
function parseAddress(text: string): Address {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  assert.ok(match, text);
  return { host: match[1]!, port: Number(match[2]) };
}

async function zonesFolder(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'example.test.yaml'), contractZone());
  await writeFile(join(dir, 'other.test.yaml'), OTHER_ZONE);
  return dir;
}

function stopOnFailure(t: { after: (fn: () => void) => void }, started: Started): void {
  t.after(() => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  });
}

async function assertStopsWithin2s(started: Started, signal: NodeJS.Signals): Promise<void> {
  const sentAt = Date.now();
  started.child.kill(signal);
  const result = await Promise.race([started.exited, sleep(5000).then(() => null)]);
  assert.ok(result, `still running 5 s after ${signal}`);
  assert.equal(result.code, 0, `exit code after ${signal}; stderr: ${started.stderr()}`);
  assert.ok(result.at - sentAt < 2000, `stopped ${result.at - sentAt} ms after ${signal}`);
}

test('serve: one log line per socket and per zone, answers on every address, stops on SIGTERM within 2 s', async (t) => {
  const zones = await zonesFolder(t);
  const started = await serve(
    ['--zones', zones, '--listen', '127.0.0.1:0', '--listen', '[::1]:0', '--no-geo', '--no-health', '--nsid', 'cli-test'],
    (lines) => listening(lines).length >= 4,
  );
  stopOnFailure(t, started);
  assert.equal(started.child.exitCode, null, `exited early: ${started.stderr()}`);

  const sockets = listening(started.lines);
  assert.deepEqual(sockets.map((l) => l.transport).sort(), ['tcp', 'tcp', 'udp', 'udp']);
  const udpAddresses = sockets.filter((l) => l.transport === 'udp').map((l) => l.address!);
  assert.equal(udpAddresses.length, 2);
  assert.ok(udpAddresses.some((a) => a.startsWith('127.0.0.1:')) && udpAddresses.some((a) => a.startsWith('[::1]:')));
  for (const line of sockets) assert.equal(line.msg, `listening on ${line.address} ${line.transport}`);
  // TCP sits on the same port as UDP for each address.
  assert.deepEqual(new Set(sockets.map((l) => l.address)).size, 2);

  const zoneLines = started.lines.filter((l) => l.msg === 'zone loaded');
  assert.deepEqual(zoneLines.map((l) => l.zone).sort(), ['example.test', 'other.test']);
  // No --io: auto, the batched module where it loads (as in this process), else dgram; said once, at info.
  const ioLines = started.lines.filter((l) => l.msg.startsWith('UDP I/O: '));
  assert.deepEqual(ioLines.map((l) => [l.level, l.io]), [[30, loadBatchedUdp() !== null ? 'batched' : 'dgram']]);

  for (const text of udpAddresses) {
    const address = parseAddress(text);
    const res = await query(address, 'static.example.test', 'A', { edns: { nsid: true } });
    assert.equal(res.answer.length, 3, text);
    assert.equal(res.opt?.nsid, 'cli-test', '--nsid is served');
    const tcp = await query(address, 'ns1.other.test', 'A', { tcp: true });
    assert.deepEqual(formatSection(tcp.answer), ['ns1.other.test. 300 IN A 192.0.2.99']);
  }
  const v4 = parseAddress(udpAddresses.find((a) => a.startsWith('127.'))!);
  assert.match(await dig(v4, ['+norec', '+nsid', 'www.example.test', 'A']), /NSID: .*\("cli-test"\)/);

  await assertStopsWithin2s(started, 'SIGTERM');
  assert.ok(started.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
});

test('serve survives a burst of garbage, keeps answering, and stops on SIGINT within 2 s with a client connected', async (t) => {
  const zones = await zonesFolder(t);
  const started = await serve(['--zones', zones, '--listen', '127.0.0.1:0', '--no-geo', '--no-health'], (lines) => listening(lines).length >= 2);
  stopOnFailure(t, started);
  const address = parseAddress(listening(started.lines)[0]!.address!);
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 16;
  };
  for (let i = 0; i < 1000; i++) {
    const packet = Buffer.from(Array.from({ length: next() % 300 }, () => next() & 0xff));
    socket.send(packet, address.port, address.host);
    if (i % 100 === 99) await sleep(5);
  }
  await sleep(200);
  assert.equal(started.child.exitCode, null, `the process died: ${started.stderr()}`);
  assert.equal((await query(address, 'static.example.test', 'A')).answer.length, 3);
  assert.equal((await query(address, 'static.example.test', 'A', { tcp: true })).answer.length, 3);
  // An idle TCP client must not keep the process alive.
  const idle = await TcpConnection.open(address);
  t.after(() => idle.close());
  assert.equal((await query(address, 'mail.example.test', 'A')).answer.length, 1);
  await assertStopsWithin2s(started, 'SIGINT');
  assert.ok(started.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGINT'));
});

test('serve exits non-zero with a clear message when the UDP port is taken', async (t) => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = holder.address().port;
  const zones = await zonesFolder(t);
  const started = await serve(['--zones', zones, '--listen', `127.0.0.1:${port}`, '--no-geo', '--no-health'], () => false);
  stopOnFailure(t, started);
  const result = await started.exited;
  assert.notEqual(result.code, 0);
  assert.match(started.stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  assert.equal(listening(started.lines).length, 0, 'no "listening" line for a socket that was not bound');
  // The port holder is untouched.
  assert.equal(await sendUdpMaybe({ host: '127.0.0.1', port }, Buffer.alloc(12), 100), null);
});

test('serve exits non-zero with a clear message when the TCP port is taken', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const zones = await zonesFolder(t);
  const started = await serve(['--zones', zones, '--listen', `127.0.0.1:${port}`, '--no-geo', '--no-health'], () => false);
  stopOnFailure(t, started);
  const result = await started.exited;
  assert.notEqual(result.code, 0);
  assert.match(started.stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
});

test('serve rejects a malformed --listen with a usage message', async () => {
  const started = await serve(['--listen', 'localhost', '--no-geo', '--no-health'], () => false);
  const result = await started.exited;
  assert.notEqual(result.code, 0);
  assert.match(started.stderr(), /--listen "localhost": expected HOST:PORT/);
});

test('a malformed --admin is reported as --admin, not --listen (serve and override), exit 2', async () => {
  const served = await cliInProcess(['serve', '--listen', '127.0.0.1:0', '--admin', 'nonsense', '--no-geo', '--no-health', '--workers', '1']);
  assert.equal(served.code, 2, served.stderr);
  assert.match(served.stderr, /^meridian: --admin "nonsense": expected HOST:PORT/);
  assert.doesNotMatch(served.stderr, /--listen/);
  const overridden = await cliInProcess(['override', '192.0.2.1', 'down', '--admin', 'nonsense']);
  assert.equal(overridden.code, 2, overridden.stderr);
  assert.match(overridden.stderr, /^meridian: --admin "nonsense": expected HOST:PORT/);
});

test('bad cookie and TCP limit flags are usage errors (exit 2) saying what is wrong', async () => {
  const serve = (...flags: string[]) => cliInProcess(['serve', '--listen', '127.0.0.1:0', '--no-geo', '--no-health', '--workers', '1', ...flags]);
  const cases: [string[], RegExp][] = [
    [['--tcp-message-timeout', 'soon'], /--tcp-message-timeout must be a duration from 1ms to 60s .*"soon"/],
    [['--tcp-max-per-client', '0'], /--tcp-max-per-client must be a whole number ≥ 1/],
    [['--no-cookies', '--cookie-secret-file', 'x'], /--no-cookies and --cookie-secret-file contradict each other/],
    [['--cookie-secret-file', '/nonexistent/secret'], /cannot read the cookie secret file \/nonexistent\/secret: ENOENT/],
  ];
  const results = await Promise.all(cases.map(([flags]) => serve(...flags)));
  results.forEach((result, i) => {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, cases[i]![1]);
  });
});

test('--io takes auto, batched or dgram; anything else is a usage error (exit 2) naming them', async () => {
  const serve = (...flags: string[]) => cliInProcess(['serve', '--listen', '127.0.0.1:0', '--no-geo', '--no-health', ...flags]);
  const bad = await serve('--io', 'fast', '--workers', '1');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^meridian: --io must be auto, batched, dgram .*not "fast"/);
  // A good --io gets past its check to the next one (a bad --workers), so no server starts here.
  for (const io of ['auto', 'batched', 'dgram']) {
    const accepted = await serve('--io', io, '--workers', '0');
    assert.equal(accepted.code, 2, accepted.stderr);
    assert.match(accepted.stderr, /^meridian: --workers must be/, `--io ${io} accepted`);
  }
});

test('an unknown flag and a bad --from are usage errors (exit 2)', async () => {
  const unknown = await cliInProcess(['check', '--bogus', 'zones']);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  const from = await cliInProcess(['explain', 'www.example.test', '--from', 'nowhere', '--zones', 'zones']);
  assert.equal(from.code, 2, from.stderr);
  assert.match(from.stderr, /--from nowhere: expected an IP address or a subnet/);
});

test('explain reports a zone file it skips as an error, not as a warning (check prints warnings with the same word)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-explain-skip-'));
  try {
    await writeFile(join(dir, 'bad.yaml'), 'zone: bad.test\nrecords:\n  "@": { NS: [ns1] }\n');
    const result = await cliInProcess(['explain', 'www.bad.test', '--from', '192.0.2.1', '--zones', dir, '--no-health']);
    const skipped = result.stderr.split('\n').filter((line) => line.includes('(file skipped)'));
    assert.ok(skipped.length > 0, result.stderr);
    for (const line of skipped) assert.match(line, /^meridian: .*bad\.yaml:\d+:\d+: .* \[[a-z-]+\] \(file skipped\)$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
