/**
 * Property tests of the packet handler (decode → answer → encode) on hostile input: arbitrary
 * bytes, valid queries built with src/wire's encodeQuery and then mutated (bit flips, truncation,
 * inserted and deleted bytes, rewritten section counts), and arbitrary EDNS option lists. For
 * every input the handler returns without throwing; a response, when there is one, is a whole
 * message that decodeMessage reads, with QR set and the request's ID; no input reaches the
 * SERVFAIL of an internal error. The seed is fixed; fast-check prints it with the shrunk
 * counterexample when a property fails, and FUZZ_SEED replays another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { presentRData } from '../../src/records/index.js';
import { decodeMessage, encodeQuery, EdnsOption, type EdnsOptionData, type QueryEdns, type Transport } from '../../src/wire/index.js';
import { servingOf } from '../../test/support/compiled-zones.js';
import { applyMutations, type PacketMutation } from '../../test/support/packet-mutations.js';
import { ServerCookies } from '../cookies/index.js';
import { createPacketHandler, newQueryCounters, responseTo } from './handle-packet.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const SAMPLE_ZONE = readFileSync(new URL('../../zones/example.test.yaml', import.meta.url), 'utf8');

const counters = newQueryCounters();
const serving = servingOf([SAMPLE_ZONE]);
// Cookies on, as a server runs by default, so COOKIE options go through the cookie check too.
const cookies = new ServerCookies({ current: Buffer.alloc(16, 3), previous: null }, () => 1_800_000_000);
const handle = createPacketHandler(() => serving, { nsid: Buffer.from('fuzz') }, counters, null, undefined, null, cookies);

/** Runs one packet through the handler and checks every invariant that holds for any input. */
function checkHandled(packet: Buffer, transport: Transport): void {
  const response = responseTo(handle, packet, transport, '192.0.2.1');
  assert.equal(counters.servfailFromErrors, 0, 'the answer path threw (SERVFAIL from an internal error)');
  if (response === null) return;
  assert.ok(packet.length >= 12, 'a packet shorter than a header is dropped, not answered');
  const decoded = decodeMessage(response, presentRData);
  assert.equal(decoded.id, packet.readUInt16BE(0), 'the response echoes the request ID');
  assert.equal(decoded.flags.qr, true, 'the response has QR set');
}

function property<T>(name: string, runs: number, arbitrary: fc.Arbitrary<T>, check: (value: T) => void): void {
  test(`${name} (${runs} cases, seed ${SEED})`, () => {
    fc.assert(fc.property(arbitrary, check), { seed: SEED, numRuns: runs });
  });
}

const transport = fc.constantFrom<Transport>('udp', 'tcp');

property('arbitrary bytes never crash the handler', 3000, fc.tuple(fc.uint8Array({ maxLength: 600 }), transport), ([bytes, via]) =>
  checkHandled(Buffer.from(bytes), via),
);

property(
  'arbitrary bytes behind a query header never crash the handler',
  2000,
  fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.uint8Array({ maxLength: 300 }), transport),
  ([id, body, via]) => {
    // QR=0, opcode QUERY, QDCOUNT 1: past the drop checks, so the body reaches the question and section parsers.
    const header = Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    checkHandled(Buffer.concat([header, Buffer.from(body)]), via);
  },
);

const NAMES = ['example.test', 'www.example.test', 'static.example.test', 'alias.example.test', 'API.Example.Test', 'missing.example.test', '_sip._udp.example.test', 'elsewhere.invalid', '.'];
const TYPES: (string | number)[] = ['A', 'AAAA', 'NS', 'SOA', 'MX', 'TXT', 'CNAME', 'SRV', 'CAA', 'ANY', 'AXFR', 'OPT', 65, 0, 65535];

const optionData: fc.Arbitrary<EdnsOptionData> = fc.record({
  code: fc.oneof(fc.constantFrom(EdnsOption.CLIENT_SUBNET, EdnsOption.NSID, EdnsOption.COOKIE), fc.integer({ min: 0, max: 65535 })),
  data: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
});

const queryEdns: fc.Arbitrary<QueryEdns> = fc.record(
  {
    udpSize: fc.integer({ min: 0, max: 65535 }),
    version: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    do: fc.boolean(),
    nsid: fc.boolean(),
    clientSubnet: fc.constantFrom('192.0.2.0/24', '198.51.100.7/32', '2001:db8::/56', '0.0.0.0/0', '2001:db8:1::/48'),
    options: fc.array(optionData, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

const validQuery = fc
  .record({
    id: fc.integer({ min: 0, max: 65535 }),
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom(...TYPES),
    rd: fc.boolean(),
    edns: fc.option(queryEdns, { nil: null }),
  })
  .map(({ id, name, type, rd, edns }) => encodeQuery({ id, name, type, flags: { rd }, edns }));

const mutation: fc.Arbitrary<PacketMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('count' as const), section: fc.nat({ max: 3 }), value: fc.oneof(fc.nat({ max: 3 }), fc.integer({ min: 0, max: 65535 })) }),
);

property(
  'valid queries, mutated, never crash the handler',
  6000,
  fc.tuple(validQuery, fc.array(mutation, { minLength: 1, maxLength: 4 }), transport),
  ([packet, mutations, via]) => checkHandled(applyMutations(packet, mutations), via),
);

property('valid queries are answered, not rejected', 500, fc.tuple(validQuery, transport), ([packet, via]) => {
  checkHandled(packet, via);
  const response = responseTo(handle, packet, via, '192.0.2.1');
  assert.notEqual(response, null, 'a well-formed query gets a response');
});

/** An OPT with only options the server does not read (RFC 6891 §6.1.2: ignored), or none. */
const ignoredOptions = fc.array(
  fc.record({
    code: fc.integer({ min: 0, max: 65535 }).filter((code) => code !== EdnsOption.CLIENT_SUBNET && code !== EdnsOption.COOKIE),
    data: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  }),
  { maxLength: 6 },
);

property(
  'options the server does not read are ignored: the answer is NOERROR',
  1500,
  fc.tuple(fc.integer({ min: 0, max: 65535 }), ignoredOptions, transport),
  ([id, options, via]) => {
    const packet = encodeQuery({ id, name: 'static.example.test', type: 'A', edns: { options } });
    checkHandled(packet, via);
    const decoded = decodeMessage(responseTo(handle, packet, via, '192.0.2.1')!, presentRData);
    assert.equal(decoded.rcodeName, 'NOERROR');
    assert.equal(decoded.answer.length, 3);
  },
);

property('arbitrary EDNS option lists never crash the handler', 2500, fc.tuple(fc.integer({ min: 0, max: 65535 }), queryEdns, transport), ([id, edns, via]) =>
  checkHandled(encodeQuery({ id, name: 'www.example.test', type: 'A', edns }), via),
);
