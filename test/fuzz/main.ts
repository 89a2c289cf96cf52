/**
 * `npm run fuzz -- --seconds N [--packets N] [--seed N]`: starts the real server (a child process, the
 * sample zones, health and geo off, loopback ports chosen at run time), sends valid queries mutated
 * by test/support/packet-mutations.ts over UDP (batches of 300) and TCP (about one packet in ten:
 * 4 connections of 8 framed messages beside each batch, one frame in twenty with a wrong length)
 * until N packets are sent or N seconds pass, then checks that known queries still get their known answers over both transports. Reports packets sent, responses by rcode,
 * unanswered UDP packets, responses that do not parse, and the server's RSS before and after.
 * Also reads the server's own counters from its admin endpoint (/metrics). Exits 1 if the server
 * died, stopped answering correctly, sent a response that does not parse, or counted an internal
 * or handler error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { presentRData } from '../../src/records/index.js';
import { seededRandom } from '../../src/routing/index.js';
import { decodeMessage, encodeQuery, rcodeName, tcpFrame } from '../../src/wire/index.js';
import { applyMutations, randomMutation } from '../support/packet-mutations.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, packets: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } },
});
const seconds = Number(values.seconds);
const packetLimit = Number(values.packets);
const seed = Number(values.seed);
if (!(seconds > 0) || !(packetLimit > 0) || !Number.isInteger(seed)) throw new Error('usage: npm run fuzz -- --seconds N [--packets N] [--seed N]');

const UDP_BATCH = 300;
/** The server closes a connection after a message it does not answer (RFC 7766 §6.2.4), so connections are short. */
const TCP_MESSAGES_PER_CONNECTION = 8;
const TCP_CONNECTIONS_PER_ROUND = 4;
/** How long a batch may go without a response before the rest of it counts as unanswered. */
const QUIET_MS = 30;
const random = seededRandom(seed);
const next = (): number => random.next();

const BASES = [
  { name: 'static.example.test', type: 'A' },
  { name: 'www.example.test', type: 'A' },
  { name: 'alias.example.test', type: 'AAAA' },
  { name: 'example.test', type: 'ANY' },
  { name: 'missing.example.test', type: 'MX' },
  { name: '_sip._udp.example.test', type: 'SRV' },
  { name: 'elsewhere.invalid', type: 'A' },
];

function mutatedPacket(): Buffer {
  const base = BASES[Math.floor(next() * BASES.length)]!;
  const edns = next() < 0.5 ? { clientSubnet: next() < 0.5 ? '192.0.2.0/24' : '2001:db8::/56', nsid: next() < 0.5 } : null;
  const packet = encodeQuery({ id: Math.floor(next() * 65536), name: base.name, type: base.type, edns });
  const mutations = Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomMutation(next));
  return applyMutations(packet, mutations);
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) : NaN;
}

/** A free loopback TCP port for the admin endpoint (whose port the server does not log). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The server's own counters that say what became of the packets, from /metrics. */
async function serverCounters(adminPort: number): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const wanted = /^meridian_dns_(udp_packets|tcp_messages|dropped_packets|internal_errors|handler_errors|send_errors|tcp_connections)_total/;
  return text.split('\n').filter((line) => wanted.test(line));
}

function startServer(adminPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', '--zones', join(repoRoot, 'zones'), '--listen', '127.0.0.1:0', '--no-health', '--no-geo', '--no-watch', '--log-format', 'json', '--admin', `127.0.0.1:${adminPort}`],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const found = buffered.match(/listening on 127\.0\.0\.1:(\d+) tcp/);
      if (found) resolve({ child, port: Number(found[1]) });
    });
  });
}

const byRcode = new Map<string, number>();
let unparsable = 0;
function countResponse(message: Buffer): void {
  let name: string;
  try {
    name = decodeMessage(message, presentRData).rcodeName;
  } catch {
    unparsable++;
    name = message.length >= 4 ? `${rcodeName(message[3]! & 0xf)} (unparsable)` : 'unparsable';
  }
  byRcode.set(name, (byRcode.get(name) ?? 0) + 1);
}

/** Asks one query over UDP or TCP and returns the sorted answer lines and the rcode. */
async function ask(port: number, transport: 'udp' | 'tcp', name: string, type: string): Promise<string> {
  const query = encodeQuery({ id: 4242, name, type });
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${transport} answer to ${name} ${type}`)), 3000);
    if (transport === 'udp') {
      const socket = createSocket('udp4');
      socket.once('message', (message) => (clearTimeout(timer), socket.close(), resolve(message)));
      socket.send(query, port, '127.0.0.1');
    } else {
      const socket = connect(port, '127.0.0.1', () => socket.write(tcpFrame(query)));
      let data = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) (clearTimeout(timer), socket.destroy(), resolve(data.subarray(2, 2 + data.readUInt16BE(0))));
      });
      socket.on('error', reject);
    }
  });
  const decoded = decodeMessage(reply, presentRData);
  return `${decoded.rcodeName} ${decoded.answer.map((r) => `${r.type} ${r.data}`).sort().join(', ')}`;
}

const KNOWN: { name: string; type: string; expect: string }[] = [
  { name: 'static.example.test', type: 'A', expect: 'NOERROR A 192.0.2.10, A 192.0.2.11, A 192.0.2.12' },
  { name: 'ns1.example.test', type: 'AAAA', expect: 'NOERROR AAAA 2001:db8::53' },
  { name: 'missing.example.test', type: 'A', expect: 'NXDOMAIN ' },
];

async function checkKnownAnswers(port: number): Promise<string[]> {
  const wrong: string[] = [];
  for (const transport of ['udp', 'tcp'] as const) {
    for (const known of KNOWN) {
      const got = await ask(port, transport, known.name, known.type);
      if (got !== known.expect) wrong.push(`${transport} ${known.name} ${known.type}: got "${got}", expected "${known.expect}"`);
    }
  }
  return wrong;
}

/** Sends one batch over UDP; resolves when the batch has been answered or has gone quiet. */
function udpBatch(socket: ReturnType<typeof createSocket>, port: number, packets: Buffer[], received: { count: number }): Promise<void> {
  const target = received.count + packets.length;
  return new Promise((resolve) => {
    let last = received.count;
    const poll = setInterval(() => {
      if (received.count >= target || received.count === last) (clearInterval(poll), resolve());
      last = received.count;
    }, QUIET_MS);
    for (const packet of packets) socket.send(packet, port, '127.0.0.1');
  });
}

/** One TCP connection: framed mutated messages (one in twenty with a wrong length), then half-close. */
function tcpConnection(port: number, packets: Buffer[]): Promise<number> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    let responses = 0;
    const socket = connect(port, '127.0.0.1', () => {
      const frames = packets.map((packet) => {
        const frame = tcpFrame(packet);
        if (next() < 0.05) frame.writeUInt16BE(Math.floor(next() * 65536), 0);
        return frame;
      });
      socket.end(Buffer.concat(frames));
    });
    const finish = (): void => (clearTimeout(timer), socket.destroy(), resolve(responses));
    const timer = setTimeout(finish, 3000);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        countResponse(data.subarray(2, 2 + data.readUInt16BE(0)));
        responses++;
        data = data.subarray(2 + data.readUInt16BE(0));
      }
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
  });
}

async function main(): Promise<void> {
  const adminPort = await freePort();
  const { child, port } = await startServer(adminPort);
  let exitedEarly = false;
  child.once('exit', () => (exitedEarly = true));
  try {
    const before = await checkKnownAnswers(port);
    if (before.length > 0) throw new Error(`wrong answers before fuzzing:\n${before.join('\n')}`);
    const rssBefore = rssKiB(child.pid!);
    const socket = createSocket('udp4');
    const received = { count: 0 };
    socket.on('message', (message) => (received.count++, countResponse(message)));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(4 << 20);
    const deadline = Date.now() + seconds * 1000;
    const started = Date.now();
    let udpSent = 0;
    let tcpSent = 0;
    let tcpResponses = 0;
    let tcpConnections = 0;
    while (udpSent + tcpSent < packetLimit && Date.now() < deadline && !exitedEarly) {
      const room = packetLimit - udpSent - tcpSent;
      const udpPackets = Array.from({ length: Math.min(room, UDP_BATCH) }, mutatedPacket);
      udpSent += udpPackets.length;
      const tcpRound: Promise<number>[] = [];
      for (let left = room - udpPackets.length, i = 0; left > 0 && i < TCP_CONNECTIONS_PER_ROUND; i++) {
        const packets = Array.from({ length: Math.min(left, TCP_MESSAGES_PER_CONNECTION) }, mutatedPacket);
        left -= packets.length;
        tcpSent += packets.length;
        tcpConnections++;
        tcpRound.push(tcpConnection(port, packets));
      }
      const [, answered] = await Promise.all([udpBatch(socket, port, udpPackets, received), Promise.all(tcpRound)]);
      tcpResponses += answered.reduce((sum, n) => sum + n, 0);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.close();
    const elapsed = (Date.now() - started) / 1000;
    if (exitedEarly) throw new Error('the server died during the fuzz run');
    const rssAfter = rssKiB(child.pid!);
    const after = await checkKnownAnswers(port);
    const counters = await serverCounters(adminPort);
    console.log(`seed ${seed}: ${udpSent + tcpSent} packets in ${elapsed.toFixed(1)} s (${Math.round((udpSent + tcpSent) / elapsed)}/s)`);
    console.log(`  UDP: ${udpSent} sent, ${received.count} answered, ${udpSent - received.count} unanswered (dropped by the server, or lost in a full socket buffer)`);
    console.log(`  TCP: ${tcpSent} sent on ${tcpConnections} connections, ${tcpResponses} answered`);
    console.log(`  responses by rcode: ${[...byRcode].sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ${count}`).join(', ')}`);
    console.log(`  responses that do not parse: ${unparsable}`);
    console.log(`  server counters:\n    ${counters.join('\n    ')}`);
    console.log(`  server RSS: ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after`);
    console.log(after.length === 0 ? '  known queries after: all answered correctly (UDP and TCP)' : `  WRONG ANSWERS AFTER:\n  ${after.join('\n  ')}`);
    const errors = counters.filter((line) => /_(internal|handler)_errors_total [1-9]/.test(line));
    if (after.length > 0 || unparsable > 0 || errors.length > 0) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
