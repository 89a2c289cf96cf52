/**
 * health/probes/http-probe: GET check.path over http or https; passes on an accepted status
 * code and, when the check names one, a body substring within the first 64 KiB.
 */
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostPort } from '../check-spec.js';
import type { ProbeResult, ProbeTarget } from './probe.js';
import { elapsedMs, errorReason } from './probe.js';

export type { ProbeResult } from './probe.js';

/** Most body bytes a probe reads while looking for the expected substring. */
export const MAX_BODY_BYTES = 64 * 1024;

const USER_AGENT = 'meridian-health/0.1';

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
    let req: ClientRequest | undefined;
    let res: IncomingMessage | undefined;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // destroy() tears the socket down even mid-body; swallow the errors it may emit afterwards.
      res?.on('error', () => undefined);
      res?.destroy();
      req?.on('error', () => undefined);
      req?.destroy();
      resolve(result);
    };
    const fail = (reason: string): void => finish({ ok: false, latencyMs: elapsedMs(start), reason });
    const onAbort = (): void => fail('aborted');
    // One deadline for connect, TLS, headers and body: a server that trickles bytes is still cut off.
    const timer = setTimeout(() => fail(`timeout after ${check.timeoutMs} ms`), check.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });

    const options: RequestOptions & { rejectUnauthorized?: boolean; servername?: string } = {
      host: address,
      port: check.port,
      path: check.path,
      method: 'GET',
      // No pooling: every probe is a fresh connection, which is what a client would get.
      agent: false,
      headers: {
        host: check.host ?? hostPort(address, check.port),
        'user-agent': USER_AGENT,
        accept: '*/*',
        connection: 'close',
      },
    };
    if (check.type === 'https') options.rejectUnauthorized = check.verify;

    const onResponse = (response: IncomingMessage): void => {
      res = response;
      const status = response.statusCode ?? 0;
      if (!check.expect.includes(status)) {
        fail(`HTTP ${status}`);
        return;
      }
      const wanted = check.body;
      if (wanted === undefined || wanted === '') {
        // Status is all we need: close without reading the body.
        finish({ ok: true, latencyMs: elapsedMs(start) });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const verdict = (): boolean => Buffer.concat(chunks).toString('utf8').includes(wanted);
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = MAX_BODY_BYTES - size;
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(piece);
        size += piece.length;
        if (size >= MAX_BODY_BYTES) {
          if (verdict()) finish({ ok: true, latencyMs: elapsedMs(start) });
          else fail('body mismatch');
        }
      });
      response.once('end', () => {
        if (verdict()) finish({ ok: true, latencyMs: elapsedMs(start) });
        else fail('body mismatch');
      });
      response.once('error', (err) => fail(errorReason(err)));
    };

    try {
      req = check.type === 'https' ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
    } catch (err) {
      // Bad options (an invalid header value, say) throw synchronously.
      fail(errorReason(err));
      return;
    }
    req.once('error', (err) => fail(errorReason(err)));
    req.end();
  });
}
