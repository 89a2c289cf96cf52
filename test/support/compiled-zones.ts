/**
 * Unit-test kit for the query path without sockets: zone YAML compiled as the server compiles
 * it, a health view whose down members a test names, and one question answered by answerQuery
 * and read back through the wire codec (encodeResponse, then decodeMessage), so tests assert on
 * dig-style lines and do not depend on how compiled records are held.
 */
import { answerQuery, type Answer, type ClientAddress, type ServingState } from '../../src/answer/index.js';
import { servingState } from '../../src/authority/index.js';
import type { GeoLocator } from '../../src/geo/index.js';
import type { HealthView } from '../../src/health/index.js';
import { presentRData } from '../../src/records/index.js';
import { seededRandom, type RandomSource } from '../../src/routing/index.js';
import { decodeMessage, decodeQuery, encodeQuery, encodeResponse, formatRecord, type QueryEdns } from '../../src/wire/index.js';
import { compileZones, formatDiagnostic, parseZoneFile, SerialKeeper, ZoneCatalog, type CompiledZone, type ZoneSource } from '../../src/zones/index.js';

/** Parses zone YAML (file name `unit.yaml`), failing with the printed diagnostics if it is invalid. */
export function zoneSource(text: string): ZoneSource {
  const parsed = parseZoneFile('unit.yaml', text);
  if (!parsed.ok) throw new Error(`the test zone is invalid:\n${parsed.diagnostics.map(formatDiagnostic).join('\n')}`);
  return parsed.zone;
}

/** Compiles zone texts as the server does; a member's probe key is its probe address. */
export function compileZoneTexts(...texts: string[]): CompiledZone[] {
  return compileZones(texts.map(zoneSource), new SerialKeeper(), (address) => address);
}

/** A health view where the named probe addresses are down and every other member is up. */
export function healthWithDown(down: Iterable<string>): HealthView {
  const set = new Set(down);
  return { version: set.size, status: (probeKey, address) => (set.has(probeKey ?? address) ? 'down' : 'up') };
}

export interface ServingOptions {
  down?: Iterable<string>;
  geo?: GeoLocator | null;
  random?: RandomSource;
}

/** The serving state for these zone texts (seeded randomness, everything up unless `down`). */
export function servingOf(texts: readonly string[], options: ServingOptions = {}): ServingState {
  return servingState(new ZoneCatalog(compileZoneTexts(...texts)), {
    health: healthWithDown(options.down ?? []),
    geo: options.geo ?? null,
    random: options.random ?? seededRandom(1),
  });
}

export interface Asked {
  rcode: string;
  aa: boolean;
  answer: string[];
  authority: string[];
  additional: string[];
  /** The ECS scope the answer carries (0: it does not depend on the client). */
  scope: number;
  decision: Answer['decision'];
}

/** Asks one question from `client` (default 192.0.2.1), with ECS when `clientSubnet` is given. */
export function ask(serving: ServingState, name: string, type: string, client: ClientAddress = { address: '192.0.2.1', family: 4 }, edns?: QueryEdns): Asked {
  const decoded = decodeQuery(encodeQuery({ name, type, edns: edns ?? null }), 'udp');
  if (decoded.kind !== 'query') throw new Error(`not a query: ${decoded.kind}`);
  const answer = answerQuery(decoded.query, client, serving);
  const message = decodeMessage(encodeResponse(decoded.query, answer, 65535, { nsid: null }), presentRData);
  return {
    rcode: message.rcodeName,
    aa: message.flags.aa,
    answer: message.answer.map(formatRecord),
    authority: message.authority.map(formatRecord),
    additional: message.additional.map(formatRecord),
    scope: answer.ecsScope,
    decision: answer.decision,
  };
}
