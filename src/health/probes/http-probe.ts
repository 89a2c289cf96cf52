/**
 * health/probes/http-probe: GET check.path over http or https; passes on an accepted status
 * code and, when the check names one, a body substring within the first 64 KiB.
 *
 * Spoken over a plain socket (node:net / node:tls) rather than node:http: a probe needs one
 * request, the status line, and at most 64 KiB of body, and http.request's agent, parser and
 * header machinery cost about twice the CPU of the connection itself (236 vs 114 µs per probe
 * here), which at 5,000 members every 5 s is the difference between a quarter of a core and
 * an eighth of one.
 */
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeResult, ProbeTarget } from './probe.js';
import { elapsedMs, errorReason, hostPort } from './probe.js';
import type { CheckSpec } from '../check-spec.js';
import { describeTypeAddressPort, type ProbeType } from './probe-type.js';

export type { ProbeResult } from './probe.js';

/** Most body bytes a probe reads while looking for the expected substring. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Most bytes of status line and headers accepted before the response counts as malformed. */
const MAX_HEAD_BYTES = 16 * 1024;

const USER_AGENT = 'meridian-health/0.1';
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})/;

/** The request: HTTP/1.1 with `Connection: close`, so the body ends when the connection does. */
function requestText(target: ProbeTarget): string {
  const { address, check } = target;
  const host = check.host ?? hostPort(address, check.port);
  return `GET ${check.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

/** TLS server name: the Host header's name part, none for an IP address (as node:https does). */
function serverName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isIP(name) === 0 && name !== '' ? name : undefined;
}

/**
 * Decodes a chunked body (RFC 9112 §7.1) as far as the bytes go; returns the payload so far and
 * whether the last chunk was seen. Chunk extensions and trailers are skipped.
 */
function dechunk(raw: Buffer): { payload: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) return { payload: Buffer.concat(parts), complete: false };
    const size = Number.parseInt(raw.toString('latin1', offset, lineEnd).split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) return { payload: Buffer.concat(parts), complete: true };
    if (size === 0) return { payload: Buffer.concat(parts), complete: true };
    const start = lineEnd + 2;
    parts.push(raw.subarray(start, Math.min(start + size, raw.length)));
    if (start + size + 2 > raw.length) return { payload: Buffer.concat(parts), complete: false };
    offset = start + size + 2;
  }
}

/** Runs one HTTP or HTTPS check (by `check.type`) against the target address and check port. */
export function httpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const { address, check } = target;
  const start = process.hrtime.bigint();
  return new Promise<ProbeResult>((resolve) => {
    if (signal.aborted) {
      resolve({ ok: false, latencyMs: 0, reason: 'aborted' });
      return;
    }
    let settled = false;
    let socket: Socket | null = null;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // Keep an error listener: destroy() can still emit late errors, which would otherwise throw.
      socket?.on('error', () => undefined);
      socket?.destroy();
      resolve(result);
    };
    const pass = (): void => finish({ ok: true, latencyMs: elapsedMs(start) });
    const fail = (reason: string): void => finish({ ok: false, latencyMs: elapsedMs(start), reason });
    const onAbort = (): void => fail('aborted');
    // One deadline for connect, TLS, headers and body: a server that trickles bytes is still cut off.
    const timer = setTimeout(() => fail(`timeout after ${check.timeoutMs} ms`), check.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });

    let connection: Socket;
    try {
      connection =
        check.type === 'https'
          ? tlsConnect({ host: address, port: check.port, servername: serverName(check.host), rejectUnauthorized: check.verify })
          : tcpConnect({ host: address, port: check.port });
    } catch (err) {
      // Bad options throw synchronously.
      fail(errorReason(err));
      return;
    }
    socket = connection;
    connection.once(check.type === 'https' ? 'secureConnect' : 'connect', () => connection.write(requestText(target)));

    const wanted = check.body === undefined || check.body === '' ? null : check.body;
    let head: Buffer | null = Buffer.alloc(0);
    let chunked = false;
    let contentLength = -1;
    const body: Buffer[] = [];
    let bodySize = 0;
    const bodyVerdict = (final: boolean): void => {
      let payload: Buffer = Buffer.concat(body);
      let complete = final;
      if (chunked) ({ payload, complete } = dechunk(payload));
      const text = payload.subarray(0, MAX_BODY_BYTES).toString('utf8');
      if (text.includes(wanted!)) pass();
      else if (complete || final || payload.length >= MAX_BODY_BYTES) fail('body mismatch');
    };

    connection.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (head !== null) {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf(HEAD_END);
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) fail('malformed HTTP response (headers too long)');
          return;
        }
        const headers = head.toString('latin1', 0, end);
        const status = STATUS_LINE.exec(headers);
        if (status === null) return fail('malformed HTTP response');
        const code = Number(status[1]);
        if (!check.expect.includes(code)) return fail(`HTTP ${code}`);
        // Status is all we need: close without reading the body.
        if (wanted === null) return pass();
        chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(headers);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
        if (length !== null && !chunked) contentLength = Number(length[1]);
        const rest = head.subarray(end + HEAD_END.length);
        head = null;
        chunk = rest;
      }
      if (chunk.length === 0) {
        if (contentLength === 0) bodyVerdict(true);
        return;
      }
      // Framing bytes of a chunked body do not count against the 64 KiB; bound them anyway.
      const limit = chunked ? MAX_BODY_BYTES * 2 : MAX_BODY_BYTES;
      const room = limit - bodySize;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      body.push(piece);
      bodySize += piece.length;
      if (bodySize >= limit || (contentLength >= 0 && bodySize >= contentLength)) bodyVerdict(true);
      else bodyVerdict(false);
    });
    connection.once('end', () => {
      if (settled) return;
      if (head !== null) return fail('connection closed before a response');
      bodyVerdict(true);
    });
    connection.once('error', (err) => fail(errorReason(err)));
  });
}

/** The http and https part of a probe key: everything that changes the result but the address and timing. */
function httpProbeKey(address: string, check: CheckSpec): string {
  const expect = [...new Set(check.expect)].sort((a, b) => a - b).join(',');
  // JSON.stringify quotes host and body so spaces in them cannot make two specs collide.
  const host = check.host === undefined ? '' : ` host=${JSON.stringify(check.host.toLowerCase())}`;
  const body = check.body === undefined ? '' : ` body=${JSON.stringify(check.body)}`;
  const verify = check.type === 'https' ? ` verify=${check.verify ? 1 : 0}` : '';
  return `${check.type}://${hostPort(address, check.port)}${check.path} expect=${expect}${host}${body}${verify}`;
}

/** `type: http`: GET `path` answers with a status in `expect` (and `body` in its first 64 KiB). */
export const http: ProbeType<'http'> = {
  name: 'http',
  // verify is accepted on http checks too (and ignored), as it always was.
  keys: ['path', 'host', 'expect', 'body', 'verify'],
  probeKey: httpProbeKey,
  probe: httpProbe,
  describe: describeTypeAddressPort,
};

/** `type: https`: as http, over TLS, with the certificate verified unless `verify: false`. */
export const https: ProbeType<'https'> = { ...http, name: 'https' };
