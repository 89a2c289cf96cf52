/**
 * EDNS0 (RFC 6891), truncation, NSID (RFC 5001) and the shape of ECS options (RFC 7871):
 * an OPT in every answer to an OPT, BADVERS for other versions, unknown options and flags
 * ignored, DO echoed, 512/1232-byte UDP limits with TC=1 and the full answer over TCP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import {
  buildQuery,
  EDNS_ECS,
  EDNS_NSID,
  encodeOpt,
  parseResponse,
  query,
  sendUdp,
  sortedLines,
  type Address,
} from '../support/dns-client.js';
import { contractZone, dig, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

// many: 40 A records (~700-byte answer: over 512, under 1232).
// huge: 100 A records (~1650 bytes: over 1232 whatever the client offers).
const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
const MANY = range(40, (i) => `10.0.0.${i + 1}`);
const HUGE = range(100, (i) => `10.1.${Math.floor(i / 50)}.${(i % 50) + 1}`);
const BIG_ZONE = `
zone: big.test
soa: { mname: ns1.big.test, rname: hostmaster.big.test, serial: 1 }
records:
  "@": { NS: [ns1.big.test] }
  ns1: { A: 192.0.2.1 }
  many: { A: [${MANY.join(', ')}] }
  huge: { A: [${HUGE.join(', ')}] }
  txt: { TXT: ["${'t'.repeat(250)}", "${'u'.repeat(250)}", "${'v'.repeat(250)}"] }
`;

let server: TestServer;
let udp: Address;

before(async () => {
  server = await startCoreServer({ zones: { 'example.test.yaml': contractZone(), 'big.test.yaml': BIG_ZONE } });
  udp = server.v4;
});
after(() => server.close());

describe('the OPT record', () => {
  test('an EDNS query gets an OPT with payload 1232, version 0; a plain query gets none', async () => {
    const res = await query(udp, 'static.example.test', 'A', { edns: { udpSize: 4096 } });
    assert.ok(res.opt);
    assert.equal(res.opt.udpSize, 1232);
    assert.equal(res.opt.version, 0);
    assert.equal(res.opt.extendedRcode, 0);
    assert.equal(res.rcodeName, 'NOERROR');
    assert.equal(res.answer.length, 3);
    const plain = await query(udp, 'static.example.test', 'A');
    assert.equal(plain.opt, null);
  });

  test('negative answers and REFUSED carry the OPT too', async () => {
    for (const name of ['nope.example.test', '_udp.example.test', 'example.org']) {
      const res = await query(udp, name, 'A', { edns: {} });
      assert.equal(res.opt?.udpSize, 1232, name);
    }
  });

  test('EDNS version 1 gets BADVERS (extended rcode 16) with an OPT of version 0', async () => {
    const res = await query(udp, 'static.example.test', 'A', { edns: { version: 1 } });
    assert.equal(res.rcode, 16);
    assert.equal(res.rcodeName, 'BADVERS');
    assert.equal(res.headerRcode, 0, 'the low 4 bits are in the header');
    assert.equal(res.opt?.extendedRcode, 1, 'the upper 8 bits are in the OPT');
    assert.equal(res.opt?.version, 0);
    assert.deepEqual(res.answer, []);
    // And over TCP, and for version 255.
    const tcp = await query(udp, 'static.example.test', 'A', { edns: { version: 255 }, tcp: true });
    assert.equal(tcp.rcodeName, 'BADVERS');
    const out = await dig(udp, ['+norec', '+edns=1', '+noednsnegotiation', 'static.example.test', 'A']);
    assert.match(out, /status: BADVERS/);
    assert.match(out, /EDNS: version: 0/);
  });

  test('unknown options are ignored', async () => {
    const res = await query(udp, 'static.example.test', 'A', {
      edns: {
        options: [
          { code: 65001, data: Buffer.from('anything at all') },
          { code: 12, data: Buffer.alloc(0) }, // padding, empty
        ],
      },
    });
    assert.equal(res.rcodeName, 'NOERROR');
    assert.equal(res.answer.length, 3);
    assert.deepEqual(res.opt?.options, [], 'nothing unknown is echoed');
  });

  test('unknown EDNS flags (Z bits) are ignored and not echoed; DO is echoed', async () => {
    const z = await query(udp, 'static.example.test', 'A', { edns: { zFlags: 0x4001 } });
    assert.equal(z.rcodeName, 'NOERROR');
    assert.equal(z.opt?.flags, 0);
    const withDo = await query(udp, 'static.example.test', 'A', { edns: { do: true } });
    assert.equal(withDo.opt?.do, true);
    assert.equal(withDo.answer.length, 3);
    const withoutDo = await query(udp, 'static.example.test', 'A', { edns: { do: false } });
    assert.equal(withoutDo.opt?.do, false);
    const out = await dig(udp, ['+norec', '+dnssec', 'static.example.test', 'A']);
    assert.match(out, /EDNS: version: 0, flags: do; udp: 1232/);
  });

  test('a non-zero extended rcode in a query is ignored', async () => {
    const res = await query(udp, 'static.example.test', 'A', { edns: { extendedRcode: 7 } });
    assert.equal(res.rcodeName, 'NOERROR');
  });
});

describe('malformed OPT records get FORMERR', () => {
  const cases: [string, Buffer][] = [
    ['an option length past the end of RDATA', Buffer.concat([Buffer.from([0]), Buffer.from([0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0xfd, 0xe9, 0, 9, 1, 2])])],
    ['a truncated option header', Buffer.concat([Buffer.from([0]), Buffer.from([0, 41, 4, 208, 0, 0, 0, 0, 0, 3, 0, 10, 0])])],
    ['RDLENGTH past the end of the message', encodeOpt({ rdlength: 40 })],
    ['an OPT owned by a name other than the root', encodeOpt({ ownerBytes: Buffer.from([3, 0x63, 0x6f, 0x6d, 0]) })],
  ];
  for (const [label, opt] of cases) {
    test(label, async () => {
      const base = buildQuery({ id: 77, name: 'static.example.test', type: 'A', arcount: 1 });
      const res = parseResponse(await sendUdp(udp, Buffer.concat([base, opt])));
      assert.equal(res.id, 77);
      assert.equal(res.rcodeName, 'FORMERR');
      assert.deepEqual(res.answer, []);
    });
  }

  test('two OPT records', async () => {
    const base = buildQuery({ id: 78, name: 'static.example.test', type: 'A', arcount: 2 });
    const res = parseResponse(await sendUdp(udp, Buffer.concat([base, encodeOpt({}), encodeOpt({})])));
    assert.equal(res.rcodeName, 'FORMERR');
  });

  test('OPT as the question type', async () => {
    const res = await query(udp, 'static.example.test', 'OPT');
    assert.equal(res.rcodeName, 'FORMERR');
  });
});

describe('NSID', () => {
  let withNsid: TestServer;
  before(async () => {
    withNsid = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, nsid: 'meridian-test-1' });
  });
  after(() => withNsid.close());

  test('an empty NSID option in the query gets the configured identifier back', async () => {
    const res = await query(withNsid.v4, 'static.example.test', 'A', { edns: { nsid: true } });
    assert.equal(res.opt?.nsid, 'meridian-test-1');
    assert.equal(res.answer.length, 3);
    // On negative answers, rejections and over TCP too.
    assert.equal((await query(withNsid.v4, 'nope.example.test', 'A', { edns: { nsid: true }, tcp: true })).opt?.nsid, 'meridian-test-1');
    assert.equal((await query(withNsid.v4, 'example.org', 'A', { edns: { nsid: true } })).opt?.nsid, 'meridian-test-1');
  });

  test('no NSID option unless the query asks for it', async () => {
    const res = await query(withNsid.v4, 'static.example.test', 'A', { edns: {} });
    assert.equal(res.opt?.options.some((o) => o.code === EDNS_NSID), false);
  });

  test('dig +nsid shows the identifier', async () => {
    const out = await dig(withNsid.v4, ['+norec', '+nsid', 'static.example.test', 'A']);
    assert.match(out, /; NSID: .*\("meridian-test-1"\)/);
  });

  test('without NSID configured, an NSID request gets no NSID option', async () => {
    const res = await query(udp, 'static.example.test', 'A', { edns: { nsid: true } });
    assert.ok(res.opt);
    assert.equal(res.opt.options.some((o) => o.code === EDNS_NSID), false);
    assert.equal(res.opt.nsid, undefined);
  });
});

describe('Client Subnet option shape', () => {
  test('a valid ECS option is echoed with scope 0 when the answer does not depend on it', async () => {
    const res = await query(udp, 'static.example.test', 'A', { edns: { clientSubnet: '192.0.2.0/24' } });
    assert.equal(res.rcodeName, 'NOERROR');
    assert.deepEqual(res.opt?.ecs, { family: 1, source: 24, scope: 0, address: '192.0.2.0' });
    const v6 = await query(udp, 'www.example.test', 'A', { edns: { clientSubnet: '2001:db8:1200::/56' } });
    assert.equal(v6.rcodeName, 'NOERROR');
    assert.deepEqual(v6.opt?.ecs, { family: 2, source: 56, scope: 0, address: '2001:db8:1200::' });
    const out = await dig(udp, ['+norec', '+subnet=198.51.100.0/24', 'www.example.test', 'A']);
    assert.match(out, /; CLIENT-SUBNET: 198\.51\.100\.0\/24\/0/);
    assert.match(out, /status: NOERROR/);
  });

  const ecs = (family: number, source: number, scope: number, address: number[]): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(family, 0);
    head[2] = source;
    head[3] = scope;
    return Buffer.concat([head, Buffer.from(address)]);
  };
  const bad: [string, Buffer[]][] = [
    ['an unknown address family', [ecs(3, 24, 0, [192, 0, 2])]],
    ['a non-zero scope in a query', [ecs(1, 24, 16, [192, 0, 2])]],
    ['an address longer than the prefix needs', [ecs(1, 24, 0, [192, 0, 2, 0])]],
    ['an address shorter than the prefix needs', [ecs(1, 24, 0, [192, 0])]],
    ['bits set beyond the source prefix', [ecs(1, 23, 0, [192, 0, 3])]],
    ['a source prefix longer than the family allows', [ecs(1, 33, 0, [192, 0, 2, 1, 0])]],
    ['an option shorter than its fixed part', [Buffer.from([0, 1, 24])]],
    ['two ECS options', [ecs(1, 24, 0, [192, 0, 2]), ecs(1, 24, 0, [192, 0, 2])]],
  ];
  for (const [label, options] of bad) {
    test(`FORMERR with the OPT echoed (RFC 6891 §7) for ${label}`, async () => {
      const res = await query(udp, 'www.example.test', 'A', { edns: { do: true, options: options.map((data) => ({ code: EDNS_ECS, data })) } });
      assert.equal(res.rcodeName, 'FORMERR');
      assert.deepEqual(res.answer, []);
      assert.ok(res.opt, 'the query had a sound OPT record, so the FORMERR carries one');
      assert.equal(res.opt.udpSize, 1232);
      assert.equal(res.opt.do, true, 'DO is copied');
      assert.deepEqual(res.opt.options, [], 'the malformed option is not echoed');
    });
  }
  test('dig reads the FORMERR for a malformed ECS option without suggesting +noedns', async () => {
    // Family 3 (unknown), /24, scope 0, three address bytes.
    const out = await dig(udp, ['www.example.test', 'A', '+norec', '+ednsopt=8:00031800c00002']);
    assert.match(out, /status: FORMERR/);
    assert.match(out, /OPT PSEUDOSECTION/);
    assert.doesNotMatch(out, /noedns/);
  });
});

describe('truncation', () => {
  test('without EDNS, an answer over 512 bytes is truncated with TC=1 and no partial RRset', async () => {
    const res = await query(udp, 'many.big.test', 'A');
    assert.equal(res.flags.tc, true);
    assert.equal(res.flags.aa, true);
    assert.equal(res.rcodeName, 'NOERROR');
    assert.ok(res.size <= 512, `${res.size} bytes`);
    assert.deepEqual(res.answer, []);
    assert.equal(res.question[0]?.name, 'many.big.test.');
  });

  test('the same query over TCP gets the full answer', async () => {
    const res = await query(udp, 'many.big.test', 'A', { tcp: true });
    assert.equal(res.flags.tc, false);
    assert.equal(res.answer.length, 40);
    assert.deepEqual(sortedLines(res.answer), MANY.map((a) => `many.big.test. 300 IN A ${a}`).sort());
  });

  test('with EDNS 4096, a 700-byte answer fits in one datagram', async () => {
    const res = await query(udp, 'many.big.test', 'A', { edns: { udpSize: 4096 } });
    assert.equal(res.flags.tc, false);
    assert.equal(res.answer.length, 40);
    assert.ok(res.size > 512 && res.size <= 1232);
  });

  test('EDNS sizes under 512 count as 512; 512 truncates a 700-byte answer', async () => {
    for (const udpSize of [0, 100, 512]) {
      const res = await query(udp, 'many.big.test', 'A', { edns: { udpSize } });
      assert.equal(res.flags.tc, true, `udp ${udpSize}`);
      assert.ok(res.size <= 512);
    }
    const small = await query(udp, 'static.example.test', 'A', { edns: { udpSize: 100 } });
    assert.equal(small.flags.tc, false, 'a small answer still fits in 512');
    assert.equal(small.answer.length, 3);
  });

  test('our limit is 1232 even when the client offers 4096; the TC response keeps the OPT', async () => {
    const res = await query(udp, 'huge.big.test', 'A', { edns: { udpSize: 4096, nsid: true } });
    assert.equal(res.flags.tc, true);
    assert.ok(res.size <= 1232, `${res.size} bytes`);
    assert.deepEqual(res.answer, []);
    assert.ok(res.opt, 'the OPT stays in a truncated response');
    assert.equal(res.opt.udpSize, 1232);
    const full = await query(udp, 'huge.big.test', 'A', { tcp: true, edns: { udpSize: 4096 } });
    assert.equal(full.flags.tc, false);
    assert.equal(full.answer.length, 100);
    assert.ok(full.size > 1232);
    assert.ok(full.opt);
  });

  test('long TXT records: truncated over UDP without EDNS, whole over TCP', async () => {
    const res = await query(udp, 'txt.big.test', 'TXT');
    assert.equal(res.flags.tc, true);
    const tcp = await query(udp, 'txt.big.test', 'TXT', { tcp: true });
    assert.equal(tcp.answer.length, 3);
  });

  test('dig: TC over UDP without EDNS, the full answer with +tcp', async () => {
    const out = await dig(udp, ['+norec', '+noedns', '+ignore', 'many.big.test', 'A']);
    assert.match(out, /;; flags: qr aa tc;/);
    const tcp = await dig(udp, ['+norec', '+tcp', '+short', 'huge.big.test', 'A']);
    assert.equal(tcp.trim().split('\n').length, 100);
  });

  test("a resolver retries a truncated answer over TCP and gets every record (Node's resolver)", async () => {
    const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${udp.port}`]);
    assert.deepEqual((await resolver.resolve4('huge.big.test')).sort(), [...HUGE].sort());
  });
});
