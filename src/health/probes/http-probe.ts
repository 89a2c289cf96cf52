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

/**
 * Most socket reads one response may take. Each read costs a few µs whatever its size, so a target
 * that sends its body a byte a packet would cost 64 K reads; a real server needs a few dozen.
 */
const MAX_READS = 2048;

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

/** Longest chunk-size line (size and extensions) read before the framing counts as broken. */
const MAX_SIZE_LINE = 1024;

export type BodyVerdict = 'match' | 'mismatch' | 'more';

/**
 * Looks for the wanted bytes in a body as it arrives, in linear time: each received byte is
 * de-chunked (RFC 9112 §7.1; extensions and trailers skipped) and copied once into a window of
 * MAX_BODY_BYTES, and only the new bytes (with the overlap a match could straddle) are searched.
 * A target that drips its body a byte a packet would otherwise cost a full re-scan per packet.
 */
export class BodyMatcher {
  private readonly window = Buffer.allocUnsafe(MAX_BODY_BYTES);
  private length = 0;
  private received = 0;
  private sizeLine = '';
  private chunkLeft = 0;
  private crlfLeft = 0;
  private ended = false;
  /** Bytes searched so far: at most the payload plus the overlap once per feed. */
  scanned = 0;

  constructor(
    private readonly wanted: Buffer,
    private readonly chunked: boolean,
    /** Content-Length of a body that is not chunked, -1 when none was given. */
    private readonly contentLength: number,
  ) {}

  feed(bytes: Buffer): BodyVerdict {
    const before = this.length;
    this.received += bytes.length;
    if (this.chunked) this.dechunk(bytes);
    else this.keep(bytes, 0, bytes.length);
    const from = Math.max(0, before - this.wanted.length + 1);
    this.scanned += this.length - from;
    if (this.window.subarray(from, this.length).indexOf(this.wanted) >= 0) return 'match';
    // Framing bytes of a chunked body do not count against the window; bound them anyway.
    const receivedLimit = this.chunked ? MAX_BODY_BYTES * 2 : MAX_BODY_BYTES;
    const complete = this.ended || (this.contentLength >= 0 && this.received >= this.contentLength);
    return complete || this.length >= MAX_BODY_BYTES || this.received >= receivedLimit ? 'mismatch' : 'more';
  }

  private keep(bytes: Buffer, start: number, end: number): void {
    const count = Math.min(end - start, MAX_BODY_BYTES - this.length);
    if (count > 0) bytes.copy(this.window, this.length, start, start + count);
    this.length += Math.max(count, 0);
  }

  private dechunk(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.ended) {
      if (this.crlfLeft > 0) {
        const skip = Math.min(this.crlfLeft, bytes.length - at);
        this.crlfLeft -= skip;
        at += skip;
      } else if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, bytes.length - at);
        this.keep(bytes, at, at + take);
        this.chunkLeft -= take;
        at += take;
        if (this.chunkLeft === 0) this.crlfLeft = 2;
      } else {
        const lineEnd = bytes.indexOf(0x0a, at);
        this.sizeLine += bytes.toString('latin1', at, lineEnd < 0 ? bytes.length : lineEnd);
        if (this.sizeLine.length > MAX_SIZE_LINE) this.ended = true;
        if (lineEnd < 0) return;
        at = lineEnd + 1;
        const size = Number.parseInt(this.sizeLine.split(';')[0]!.trim(), 16);
        this.sizeLine = '';
        // The last chunk (size 0) ends the body; so does a size line that is not one.
        if (!Number.isFinite(size) || size <= 0) this.ended = true;
        else this.chunkLeft = size;
      }
    }
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
    const local = target.source === undefined ? {} : { localAddress: target.source };
    try {
      connection =
        check.type === 'https'
          ? tlsConnect({ host: address, port: check.port, servername: serverName(check.host), rejectUnauthorized: check.verify, ...local })
          : tcpConnect({ host: address, port: check.port, ...local });
    } catch (err) {
      // Bad options throw synchronously.
      fail(errorReason(err));
      return;
    }
    socket = connection;
    connection.once(check.type === 'https' ? 'secureConnect' : 'connect', () => connection.write(requestText(target)));

    const wanted = check.body === undefined || check.body === '' ? null : Buffer.from(check.body, 'utf8');
    // The head is kept as received and searched only where a new chunk could end it.
    let headChunks: Buffer[] | null = [];
    let headLength = 0;
    let headTail: Buffer = Buffer.alloc(0);
    let matcher: BodyMatcher | null = null;
    let reads = 0;
    const judge = (verdict: BodyVerdict): void => {
      if (verdict === 'match') pass();
      else if (verdict === 'mismatch') fail('body mismatch');
    };

    connection.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (++reads > MAX_READS) return fail(`malformed HTTP response (over ${MAX_READS} reads)`);
      if (headChunks !== null) {
        const window = headTail.length === 0 ? chunk : Buffer.concat([headTail, chunk]);
        const found = window.indexOf(HEAD_END);
        if (found < 0) {
          headChunks.push(chunk);
          headLength += chunk.length;
          if (headLength > MAX_HEAD_BYTES) fail('malformed HTTP response (headers too long)');
          headTail = window.subarray(Math.max(0, window.length - (HEAD_END.length - 1)));
          return;
        }
        const bodyStart = found - headTail.length + HEAD_END.length;
        const headBytes = headChunks.length === 0 ? chunk.subarray(0, bodyStart) : Buffer.concat([...headChunks, chunk.subarray(0, bodyStart)]);
        headChunks = null;
        const headers = headBytes.toString('latin1', 0, headBytes.length - HEAD_END.length);
        const status = STATUS_LINE.exec(headers);
        if (status === null) return fail('malformed HTTP response');
        const code = Number(status[1]);
        if (!check.expect.includes(code)) return fail(`HTTP ${code}`);
        // Status is all we need: close without reading the body.
        if (wanted === null) return pass();
        const chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(headers);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
        const contentLength = length !== null && !chunked ? Number(length[1]) : -1;
        matcher = new BodyMatcher(wanted, chunked, contentLength);
        chunk = chunk.subarray(bodyStart);
        if (chunk.length === 0) {
          if (contentLength === 0) fail('body mismatch');
          return;
        }
      }
      if (matcher !== null) judge(matcher.feed(chunk));
    });
    connection.once('end', () => {
      if (settled) return;
      if (headChunks !== null) return fail('connection closed before a response');
      // Every byte was searched as it came: the body ended without the match.
      fail('body mismatch');
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
