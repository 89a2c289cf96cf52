/**
 * One request through the whole path: decode → answer → encode. Synchronous; an unexpected
 * exception in the answer path becomes SERVFAIL, a counter and a note for the fault log (which
 * logs it off the path), never a crash.
 */
import { answerQuery, type Answer, type ClientAddress, type ServingState } from '../answer/index.js';
import { NO_ZONE, QueryStats } from '../telemetry/index.js';
import {
  decodeQuery,
  encodeRejection,
  encodeResponse,
  encodeServerFailure,
  responseSizeLimit,
  Flag,
  Rcode,
  type EncoderSettings,
  type PacketHandler,
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
 */
function peerClient(peer: string): ClientAddress {
  if (!peer.includes(':')) return { address: peer, family: 4 };
  if (peer.startsWith(MAPPED_PREFIX) && peer.includes('.')) return { address: peer.slice(MAPPED_PREFIX.length), family: 4 };
  const zoneIndex = peer.indexOf('%');
  return { address: zoneIndex === -1 ? peer : peer.slice(0, zoneIndex), family: 6 };
}

/** Builds the handler the listeners call; `serving` is read on every request, so swapping it is atomic. */
export function createPacketHandler(
  serving: () => ServingState,
  settings: EncoderSettings,
  counters: QueryCounters,
  queryLog: QueryLog | null = null,
  /** Told of each exception the answer path threw; must not log on the spot. */
  onAnswerError: (error: unknown) => void = () => undefined,
): PacketHandler {
  const stats = counters.stats;
  return (packet, transport, peer) => {
    const decoded = decodeQuery(packet, transport);
    if (decoded.kind === 'drop') {
      if (decoded.reason === 'short') counters.droppedShort++;
      else counters.droppedResponses++;
      return null;
    }
    if (decoded.kind === 'reject') {
      stats.count(NO_ZONE, 0, decoded.rejection.rcode);
      return encodeRejection(decoded.rejection, settings);
    }
    const query = decoded.query;
    const subnet = query.edns?.clientSubnet ?? null;
    let client: ClientAddress;
    if (subnet !== null) {
      counters.ecsQueries++;
      // RFC 7871 §7.1.2: source prefix 0 asks for an answer not tailored to any subnet.
      client = subnet.sourcePrefix === 0 ? peerClient(peer) : { address: subnet.address, family: subnet.family };
    } else client = peerClient(peer);
    let answer: Answer;
    let response: Buffer;
    try {
      answer = answerQuery(query, client, serving());
      response = encodeResponse(query, answer, responseSizeLimit(query), settings);
    } catch (error) {
      counters.servfailFromErrors++;
      onAnswerError(error);
      stats.count(NO_ZONE, query.type, Rcode.SERVFAIL);
      return encodeServerFailure(query, settings);
    }
    stats.count(answer.zone?.origin ?? NO_ZONE, query.type, answer.rcode);
    if (answer.decision !== null) stats.countRouted(answer.decision.outcome, answer.decision.rule);
    if ((response[2]! & (Flag.TC >> 8)) !== 0) counters.truncated++;
    queryLog?.record(query, peer, answer);
    return response;
  };
}
