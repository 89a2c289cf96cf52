/**
 * One request through the whole path: decode → answer → (UDP: rate limit) → encode. Synchronous;
 * an unexpected exception in the answer path becomes SERVFAIL, a counter and a note for the fault
 * log (which logs it off the path), never a crash.
 *
 * Allocation-free for the common answers: the handler's QueryDecoder fills the same objects every
 * time, the client address and the Answer are reused objects, and the response is written into
 * the output buffer the socket hands in (docs/architecture.md, "One query, no allocation").
 */
import { answerQuery, ReusedAnswer, type Answer, type ClientAddress, type ServingState } from '../answer/index.js';
import { hashWireName, ResponseClass, Verdict, type ResponseRateLimiter } from '../rate-limit/index.js';
import { CookieState, type ServerCookies } from '../cookies/index.js';
import { NO_ZONE, QueryStats } from '../telemetry/index.js';
import {
  QueryDecoder,
  writeBadCookie,
  writeRejection,
  writeResponse,
  writeServerFailure,
  responseSizeLimit,
  Flag,
  HEADER_SIZE,
  Rcode,
  RESPONSE_BUFFER_BYTES,
  type EncoderSettings,
  type PacketHandler,
  type Transport,
  type Query,
} from '../wire/index.js';
import type { QueryLog } from './query-log.js';

/** Query-path counters: plain numbers, published at scrape time. */
export interface QueryCounters {
  stats: QueryStats;
  droppedShort: number;
  droppedResponses: number;
  truncated: number;
  servfailFromErrors: number;
  ecsQueries: number;
}

export function newQueryCounters(): QueryCounters {
  return { stats: new QueryStats(), droppedShort: 0, droppedResponses: 0, truncated: 0, servfailFromErrors: 0, ecsQueries: 0 };
}

const MAPPED_PREFIX = '::ffff:';

/**
 * A socket's view of the peer, with IPv4-mapped IPv6 turned back into IPv4 and a link-local
 * peer's zone index (`fe80::1%eth0`) left out: no geo database or network rule knows one.
 * Written into `client`, the handler's one ClientAddress.
 */
function peerClient(peer: string, client: ClientAddress): ClientAddress {
  if (!peer.includes(':')) {
    client.address = peer;
    client.family = 4;
  } else if (peer.startsWith(MAPPED_PREFIX) && peer.includes('.')) {
    client.address = peer.slice(MAPPED_PREFIX.length);
    client.family = 4;
  } else {
    const zoneIndex = peer.indexOf('%');
    client.address = zoneIndex === -1 ? peer : peer.slice(0, zoneIndex);
    client.family = 6;
  }
  return client;
}

/**
 * The response to one request as a Buffer of its own, or null: for callers that keep responses
 * (tests, the benchmark); sockets hand the handler their output buffer instead.
 */
export function responseTo(handler: PacketHandler, packet: Buffer, transport: Transport, peer: string): Buffer | null {
  const out = Buffer.allocUnsafe(RESPONSE_BUFFER_BYTES);
  const length = handler(packet, transport, peer, out);
  return length === 0 ? null : Buffer.from(out.subarray(0, length));
}

/** The rate-limit token an answer counts against (BIND's and Knot's response classes). */
function responseClassOf(answer: Answer): ResponseClass {
  if (answer.rcode === Rcode.NXDOMAIN) return ResponseClass.NXDOMAIN;
  if (answer.rcode !== Rcode.NOERROR) return ResponseClass.ERROR;
  if (answer.wildcard) return ResponseClass.WILDCARD;
  if (answer.answer.length > 0) return ResponseClass.POSITIVE;
  return !answer.authoritative && answer.authority.length > 0 ? ResponseClass.REFERRAL : ResponseClass.NODATA;
}

/**
 * The name of the token, hashed from bytes already at hand: the question in the request; the
 * zone's SOA owner (NXDOMAIN, wildcards); the owner of the cut's NS records (a referral).
 */
function tokenNameOf(responseClass: ResponseClass, query: Query, answer: Answer): number {
  switch (responseClass) {
    case ResponseClass.POSITIVE:
    case ResponseClass.NODATA:
      return hashWireName(query.packet, HEADER_SIZE);
    case ResponseClass.NXDOMAIN:
    case ResponseClass.WILDCARD:
      return answer.zone === null ? 0 : hashWireName(answer.zone.negativeSoa, 0);
    case ResponseClass.REFERRAL: {
      const ns = answer.authority[0];
      return ns === undefined ? 0 : hashWireName(ns, 0);
    }
    default:
      return 0;
  }
}

/** Nothing fits: the encoder's truncation writes the header, question and OPT with TC=1 (a slip). */
const SLIP_SIZE_LIMIT = 0;

/** Builds the handler the listeners call; `serving` is read on every request, so swapping it is atomic. */
export function createPacketHandler(
  serving: () => ServingState,
  settings: EncoderSettings,
  counters: QueryCounters,
  queryLog: QueryLog | null = null,
  /** Told of each exception the answer path threw; must not log on the spot. */
  onAnswerError: (error: unknown) => void = () => undefined,
  /** Response rate limiting of UDP answers (`--rrl`); null when off. */
  rateLimiter: ResponseRateLimiter | null = null,
  /** DNS cookies; null when they are off (--no-cookies): a COOKIE option is then ignored. */
  cookies: ServerCookies | null = null,
): PacketHandler {
  const stats = counters.stats;
  const decoder = new QueryDecoder();
  const client: ClientAddress = { address: '', family: 4 };
  const reused = new ReusedAnswer();
  return (packet, transport, peer, out) => {
    const decoded = decoder.decode(packet, transport);
    if (decoded.kind === 'drop') {
      if (decoded.reason === 'short') counters.droppedShort++;
      else counters.droppedResponses++;
      return 0;
    }
    if (decoded.kind === 'reject') {
      if (rateLimiter !== null && transport === 'udp') {
        const verdict = rateLimiter.decide(peer, ResponseClass.ERROR, 0);
        if (verdict === Verdict.DROP) return 0;
        if (verdict === Verdict.SLIP) {
          // A rejection is header, question and OPT already: the slip is the same with TC=1.
          const length = writeRejection(decoded.rejection, settings, out);
          out[2]! |= Flag.TC >> 8;
          return length;
        }
      }
      stats.count(NO_ZONE, 0, decoded.rejection.rcode);
      return writeRejection(decoded.rejection, settings, out);
    }
    const query = decoded.query;
    // What the query proved with its cookies (rate limiting reads it: a VALID one cannot be
    // spoofed, so it is never limited; over the limit, a CLIENT_ONLY one gets BADCOOKIE, which
    // carries the fresh server cookie this check set). Never throws.
    const cookieState: CookieState = cookies === null ? CookieState.NONE : cookies.check(query, peer);
    const subnet = query.edns?.clientSubnet ?? null;
    if (subnet !== null) {
      counters.ecsQueries++;
      // RFC 7871 §7.1.2: source prefix 0 asks for an answer not tailored to any subnet.
      if (subnet.sourcePrefix === 0) peerClient(peer, client);
      else {
        client.address = subnet.address;
        client.family = subnet.family;
      }
    } else peerClient(peer, client);
    let answer: Answer;
    let length: number;
    try {
      answer = answerQuery(query, client, serving(), reused);
      if (rateLimiter !== null && transport === 'udp' && cookieState !== CookieState.VALID) {
        // Keyed by the socket's peer, never the ECS subnet: a spoofer chooses that.
        const responseClass = responseClassOf(answer);
        const verdict = rateLimiter.decide(peer, responseClass, tokenNameOf(responseClass, query, answer), cookieState === CookieState.CLIENT_ONLY);
        if (verdict === Verdict.DROP) return 0;
        if (verdict === Verdict.SLIP) return writeResponse(query, answer, SLIP_SIZE_LIMIT, settings, out);
        if (verdict === Verdict.BADCOOKIE) return writeBadCookie(query, settings, out);
      }
      length = writeResponse(query, answer, responseSizeLimit(query), settings, out);
    } catch (error) {
      counters.servfailFromErrors++;
      onAnswerError(error);
      stats.count(NO_ZONE, query.type, Rcode.SERVFAIL);
      return writeServerFailure(query, settings, out);
    }
    stats.count(answer.zone?.origin ?? NO_ZONE, query.type, answer.rcode);
    if (answer.decision !== null) stats.countRouted(answer.decision.outcome, answer.decision.rule);
    if ((out[2]! & (Flag.TC >> 8)) !== 0) counters.truncated++;
    queryLog?.record(query, peer, answer);
    return length;
  };
}
