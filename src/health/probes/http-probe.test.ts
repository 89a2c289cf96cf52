/**
 * The HTTP probe against a target that drips its response a byte a packet: the body is searched
 * in linear time (each byte once, plus the overlap a match can straddle), chunked framing is
 * decoded across any split, and a response in thousands of packets is cut off by the read cap.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { CheckSpec } from '../check-spec.js';
import { BodyMatcher, httpProbe, MAX_BODY_BYTES } from './http-probe.js';

const WANTED = Buffer.from('status: healthy');

/** Feeds `bytes` one byte at a time; the first verdict that is not 'more', or 'more'. */
function feedBytewise(matcher: BodyMatcher, bytes: Buffer): string {
  for (let i = 0; i < bytes.length; i++) {
    const verdict = matcher.feed(bytes.subarray(i, i + 1));
    if (verdict !== 'more') return `${verdict} at ${i + 1}`;
  }
  return 'more';
}

test('BodyMatcher: a body fed a byte at a time is searched in linear time', () => {
  const body = Buffer.concat([Buffer.alloc(60_000, 'x'), WANTED]);
  const matcher = new BodyMatcher(WANTED, false, -1);
  assert.equal(feedBytewise(matcher, body), `match at ${body.length}`);
  assert.ok(matcher.scanned <= body.length * WANTED.length, `${matcher.scanned} bytes scanned for ${body.length} received`);
});

test('BodyMatcher: chunked framing split at every byte, the match straddling two chunks', () => {
  const body = Buffer.from(`5;ext=1\r\nstatu\r\n${(10).toString(16)}\r\ns: healthy\r\n0\r\n\r\n`);
  assert.equal(feedBytewise(new BodyMatcher(WANTED, true, -1), body), `match at ${body.indexOf('healthy') + 'healthy'.length}`);
  // The same text, but the framing is not part of the payload: "statu" + CRLF + "s" does not match.
  assert.equal(feedBytewise(new BodyMatcher(Buffer.from('statu\r\n'), true, -1), body), `mismatch at ${body.indexOf('\r\n0\r\n') + 5}`, 'the last chunk ends it');
});

test('BodyMatcher: the body ends without a match at Content-Length, the last chunk or a full window', () => {
  assert.equal(new BodyMatcher(WANTED, false, 5).feed(Buffer.from('hello')), 'mismatch');
  assert.equal(new BodyMatcher(WANTED, true, -1).feed(Buffer.from('3\r\nabc\r\n0\r\n\r\n')), 'mismatch');
  assert.equal(new BodyMatcher(WANTED, true, -1).feed(Buffer.from('zz\r\n')), 'mismatch', 'a size line that is not one');
  const full = new BodyMatcher(WANTED, false, -1);
  assert.equal(full.feed(Buffer.alloc(MAX_BODY_BYTES - 1, 'x')), 'more');
  assert.equal(full.feed(Buffer.concat([Buffer.from('x'), WANTED])), 'mismatch', 'past the window is not searched');
});

/** A target that answers 200 and then sends `body` one byte per write, then (if `endless`) 'x' forever. */
async function dripTarget(t: TestContext, body: string, endless: boolean): Promise<{ port: number; closed: Promise<number> }> {
  let resolveClosed: (written: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
      let written = 0;
      const drip = (): void => {
        if (socket.destroyed || socket.writableEnded) return resolveClosed(written);
        if (written >= body.length && !endless) return void socket.end();
        socket.write(written < body.length ? body[written]! : 'x', () => setImmediate(drip));
        written++;
      };
      drip();
      socket.on('close', () => resolveClosed(written));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, closed };
}

function check(port: number): CheckSpec {
  return { type: 'http', port, path: '/', expect: [200], body: 'status: healthy', verify: false, intervalMs: 5000, timeoutMs: 30_000, rise: 1, fall: 1 };
}

test('http: a body dripped a byte a packet still matches', async (t) => {
  const target = await dripTarget(t, `${'.'.repeat(200)}status: healthy`, false);
  const result = await httpProbe({ address: '127.0.0.1', check: check(target.port) }, new AbortController().signal);
  assert.equal(result.ok, true, JSON.stringify(result));
});

test('http: an endless body dripped a byte a packet is cut off by the read cap, not read to 64 KiB', async (t) => {
  const target = await dripTarget(t, '', true);
  const result = await httpProbe({ address: '127.0.0.1', check: check(target.port) }, new AbortController().signal);
  assert.deepEqual(result.ok ? 'passed' : result.reason, 'malformed HTTP response (over 2048 reads)');
  const written = await target.closed;
  assert.ok(written < MAX_BODY_BYTES, `the target wrote ${written} bytes before the probe hung up`);
});
