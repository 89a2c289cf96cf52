/**
 * The admin HTTP endpoint (node:http; fastify would add 130+ ms and 16 MB to start-up):
 * /metrics, /status, /healthz, /readyz, member overrides, and the status page (/, /activity,
 * /explain; see status-page/). Loopback-only unless a bearer token is configured; with a token,
 * everything but the two probes and the page's HTML (which holds no data) needs it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../config/index.js';
import { ExplainInputError, formatExplainReport, type ExplainReport, type ExplainRequest } from '../explain/index.js';
import { metricsInSlices, type Logger } from '../telemetry/index.js';
import { statusPageHtml } from './status-page/status-page.js';
import { queriesByRcode, TrafficHistory } from './status-page/traffic-history.js';

/** What an operator can force a member to. */
export type OverrideRequest = 'up' | 'down' | 'drained' | null;

export interface AdminSources {
  registry: Registry;
  /** Gathers counters kept elsewhere (cluster workers) before /metrics is rendered. */
  beforeScrape?: () => Promise<void>;
  status(): unknown;
  /** Serving: the process answers queries. */
  live(): boolean;
  /** Ready: zones loaded and first probes done. */
  ready(): boolean;
  overrides(): unknown;
  /**
   * Rejects with UnknownMemberError when `state` is not null, `force` is false and no served pool
   * has the address (a typo would otherwise be saved and do nothing); clearing is always allowed.
   */
  setOverride(address: string, state: OverrideRequest, options: { force: boolean }): Promise<void>;
  /** The last member state changes, oldest first: the status page's timeline. */
  recentChanges?(): readonly unknown[];
  /** `meridian explain`'s explanation against the live state; throws ExplainInputError on bad input. */
  explain?(request: ExplainRequest): ExplainReport;
}

/** An override refused because no pool the server serves has the address. */
export class UnknownMemberError extends Error {
  constructor(
    readonly address: string,
    /** Every member address of the served pools, sorted. */
    readonly known: readonly string[],
  ) {
    super(
      `${address} is not a member of any pool this server serves (known members: ${known.length > 0 ? known.join(', ') : 'none'}); ` +
        'to override a planned member anyway, add ?force=1 (meridian override --force)',
    );
  }
}

export interface AdminServer {
  address: ListenAddress;
  close(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

const OVERRIDE_WORDS: Record<string, OverrideRequest> = { up: 'up', down: 'down', drain: 'drained', drained: 'drained', clear: null };
const MAX_BODY = 4096;

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        // Discard the rest instead of cutting the connection, so the client gets its 413.
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`request body over ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The request target as a URL, or null when it is not one (`//`, `//[::1`) or its path is not
 * valid percent-encoding (`/%zz`), so that no route has to decode a path that can throw.
 */
function requestUrl(target: string | undefined): URL | null {
  try {
    const url = new URL(target ?? '/', 'http://admin');
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return null;
  }
}

/** The host name of a Host or Origin value (`[::1]:9153` → `::1`), or null. */
function hostNameOf(value: string | undefined): string | null {
  if (!value) return null;
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/**
 * Why a request that a browser may have sent on another site's behalf is refused, or null. Without
 * a token the endpoint trusts loopback, so a page elsewhere must not reach it: a Host that is not a
 * loopback name means DNS rebinding, and a change (PUT, POST, DELETE) whose Origin is another host
 * is a cross-site request.
 */
function browserRefusal(req: IncomingMessage, token: string | null): string | null {
  const host = req.headers.host;
  if (!token && host !== undefined && !isLoopback(hostNameOf(host) ?? '')) return `without MERIDIAN_ADMIN_TOKEN the admin endpoint answers only to loopback host names, not ${host}`;
  const origin = req.headers.origin;
  if (req.method === 'GET' || req.method === 'HEAD' || origin === undefined) return null;
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" (a sandboxed page, a file) or garbage: not this endpoint's own page.
  }
  return originHost === host ? null : `a change from another site (Origin ${origin}) is refused`;
}

/** Throws when the admin address is not loopback and no token protects it. */
export function checkAdminAccess(address: ListenAddress, token: string | null | undefined): void {
  if (!isLoopback(address.host) && !token) {
    throw new Error(`--admin ${address.host}:${address.port} is not a loopback address: set MERIDIAN_ADMIN_TOKEN to protect it with a bearer token`);
  }
}

/**
 * Starts the admin server. Refuses a non-loopback address without a token: overrides can
 * take members out of service, which nobody off the machine should do unauthenticated.
 */
export async function startAdminServer(address: ListenAddress, token: string | null, sources: AdminSources, logger: Logger): Promise<AdminServer> {
  checkAdminAccess(address, token);
  const traffic = new TrafficHistory(() => queriesByRcode(sources.registry, sources.beforeScrape));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req.url);
    if (url === null) {
      // Anyone who can reach the port can send one: not an error of ours, and no line above debug.
      logger.debug({ reason: 'malformed request URL', client: req.socket.remoteAddress }, 'admin request refused');
      return send(res, 400, { error: 'the request URL is malformed' });
    }
    const path = url.pathname;
    const refusal = browserRefusal(req, token);
    if (refusal !== null) return send(res, 403, { error: refusal });
    if (path === '/' && req.method === 'GET') return send(res, 200, statusPageHtml(), 'text/html; charset=utf-8');
    if (path === '/healthz') return send(res, sources.live() ? 200 : 503, sources.live() ? 'ok\n' : 'not serving\n', 'text/plain');
    if (path === '/readyz') return send(res, sources.ready() ? 200 : 503, sources.ready() ? 'ready\n' : 'not ready\n', 'text/plain');
    if (token && !tokenMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'a bearer token is required (Authorization: Bearer $MERIDIAN_ADMIN_TOKEN)' });
    }
    if (path === '/metrics' && req.method === 'GET') {
      await sources.beforeScrape?.();
      return send(res, 200, await metricsInSlices(sources.registry), sources.registry.contentType);
    }
    if (path === '/status' && req.method === 'GET') return send(res, 200, sources.status());
    if (path === '/overrides' && req.method === 'GET') return send(res, 200, sources.overrides());
    if (path === '/activity' && req.method === 'GET') return send(res, 200, { changes: sources.recentChanges?.() ?? [], traffic: traffic.snapshot() });
    if (path === '/explain' && req.method === 'GET' && sources.explain) {
      const name = url.searchParams.get('name');
      const from = url.searchParams.get('from');
      if (!name || !from) return send(res, 400, { error: 'name and from are required: /explain?name=www.example.test&type=A&from=192.0.2.0/24' });
      try {
        const report = sources.explain({ name, from, type: url.searchParams.get('type') || 'A' });
        return send(res, 200, { report, text: formatExplainReport(report) });
      } catch (error) {
        if (error instanceof ExplainInputError) return send(res, 400, { error: error.message });
        throw error;
      }
    }
    const match = /^\/overrides\/([^/]+)$/.exec(path);
    if (match) {
      const member = decodeURIComponent(match[1]!);
      let state: OverrideRequest;
      if (req.method === 'DELETE') state = null;
      else if (req.method === 'PUT' || req.method === 'POST') {
        let word: unknown;
        try {
          const text = await readBody(req);
          word = text.trim() === '' ? url.searchParams.get('state') : (JSON.parse(text) as { state?: unknown }).state;
        } catch (error) {
          if (error instanceof BodyTooLarge) {
            res.setHeader('connection', 'close');
            return send(res, 413, { error: error.message });
          }
          return send(res, 400, { error: 'body must be JSON like {"state": "down"}' });
        }
        if (typeof word !== 'string' || !Object.hasOwn(OVERRIDE_WORDS, word)) return send(res, 400, { error: 'state must be one of up, down, drain, clear' });
        state = OVERRIDE_WORDS[word]!;
      } else return send(res, 405, { error: 'use PUT (state in the body) or DELETE' });
      const forceParam = url.searchParams.get('force');
      const force = forceParam !== null && forceParam !== '0' && forceParam !== 'false';
      try {
        await sources.setOverride(member, state, { force });
      } catch (error) {
        if (error instanceof UnknownMemberError) return send(res, 404, { error: error.message, known: error.known });
        return send(res, 400, { error: error instanceof Error ? error.message : String(error) });
      }
      logger.info({ member, override: state ?? 'clear', client: req.socket.remoteAddress }, 'member override set over HTTP');
      return send(res, 200, { member, override: state ?? 'clear' });
    }
    return send(res, 404, { error: 'not found', endpoints: ['/', '/metrics', '/status', '/activity', '/explain', '/healthz', '/readyz', '/overrides', '/overrides/ADDRESS'] });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ reason: String(error) }, 'admin request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  traffic.start();
  return {
    address: { host: address.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        traffic.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
