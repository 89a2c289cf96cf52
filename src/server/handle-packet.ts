/**
 * One request through the whole path: decode → answer → encode. Synchronous; an unexpected
 * exception in the answer path becomes SERVFAIL and a counter, never a crash.
 */
import { answerQuery, type ClientAddress, type ServingState } from '../answer/index.js';
import {
  decodeQuery,
  encodeRejection,
  encodeResponse,
  encodeServerFailure,
  responseSizeLimit,
  Flag,
  type EncoderSettings,
  type PacketHandler,
} from '../wire/index.js';

/** Query-path counters: plain numbers, published at scrape time. */
export interface QueryCounters {
  /** Responses by rcode (index = rcode value). */
  responsesByRcode: number[];
  dropped: number;
  truncated: number;
  servfailFromErrors: number;
  ecsQueries: number;
}

export function newQueryCounters(): QueryCounters {
  return { responsesByRcode: new Array<number>(24).fill(0), dropped: 0, truncated: 0, servfailFromErrors: 0, ecsQueries: 0 };
}

const MAPPED_PREFIX = '::ffff:';

/** A socket's view of the peer, with IPv4-mapped IPv6 turned back into IPv4. */
function peerClient(peer: string): ClientAddress {
  if (!peer.includes(':')) return { address: peer, family: 4 };
  if (peer.startsWith(MAPPED_PREFIX) && peer.includes('.')) return { address: peer.slice(MAPPED_PREFIX.length), family: 4 };
  return { address: peer, family: 6 };
}

/** Builds the handler the listeners call; `serving` is read on every request, so swapping it is atomic. */
export function createPacketHandler(serving: () => ServingState, settings: EncoderSettings, counters: QueryCounters): PacketHandler {
  return (packet, transport, peer) => {
    const decoded = decodeQuery(packet, transport);
    if (decoded.kind === 'drop') {
      counters.dropped++;
      return null;
    }
    if (decoded.kind === 'reject') {
      counters.responsesByRcode[decoded.rejection.rcode]!++;
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
    let response: Buffer;
    try {
      const answer = answerQuery(query, client, serving());
      response = encodeResponse(query, answer, responseSizeLimit(query), settings);
    } catch {
      counters.servfailFromErrors++;
      counters.responsesByRcode[2]!++;
      return encodeServerFailure(query, settings);
    }
    counters.responsesByRcode[response[3]! & 0xf]!++;
    if ((response.readUInt16BE(2) & Flag.TC) !== 0) counters.truncated++;
    return response;
  };
}
