/**
 * DNSSEC answers beside Knot's online signer (knotd, mod-onlinesign), which is the reference for
 * compact denial: the same zone in both, the same questions with DO=1, and the structure of the
 * answers compared where RFC 4034/4035 and 9824 leave no freedom: response code, which records in
 * which section, owners, TTLs, NSEC next names and type bitmaps, and what each RRSIG covers
 * (type, algorithm, labels, original TTL, signer). Not the keys or signature bytes: each server
 * signs with its own key. Knot 3.2 predates RFC 9824: it is configured with NXNAME (TYPE128) as
 * the bitmap of names that do not exist, and adds that bitmap to existing names too, which the
 * RFC does not (§3.2: only a name that does not exist lists NXNAME); that one type is left out of
 * Knot's bitmaps of existing names. Where Knot is wrong (DNSKEY reached through a CNAME to the
 * apex: Knot renames the keys to the alias), Meridian's answer is checked against the RFC alone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ECDSAP256SHA256, newCombinedKey, writeKeyFiles } from '../../src/dnssec/index.js';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { query, type Address, type ParsedResponse } from '../support/dns-client.js';
import { trustedKey, verifySection } from '../support/dnssec-verifier.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';

const YAML = `
zone: os.test
ttl: 300
soa: { mname: ns1.os.test, rname: hostmaster.os.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.os.test], MX: [{ preference: 10, exchange: mail.os.test }] }
  ns1: { A: 192.0.2.53 }
  mail: { A: 192.0.2.25 }
  www: { A: 192.0.2.10, AAAA: "2001:db8::10" }
  apexalias: { CNAME: "@" }
`;
const MASTER = `$ORIGIN os.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.53
mail A 192.0.2.25
www A 192.0.2.10
www AAAA 2001:db8::10
apexalias CNAME @
`;

let meridian: TestServer;
let knot: PeerServer;
let keysDir: string;
let publicKey: string;

before(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'meridian-knot-keys-'));
  const key = newCombinedKey('os.test', ECDSAP256SHA256, Math.floor(Date.now() / 1000) - 60);
  await writeKeyFiles(keysDir, key);
  publicKey = key.publicKey.toString('base64');
  [meridian, knot] = await Promise.all([startTestServer({ zones: { 'os.test.yaml': YAML }, keysDir, healthDisabled: true }), startKnot([{ origin: 'os.test', masterFile: MASTER }], { onlineSign: true })]);
});
after(async () => {
  await Promise.all([meridian?.close(), knot?.close()]);
  await rm(keysDir, { recursive: true, force: true });
});

/** A name in RDATA, uncompressed as RFC 4034 §6.2 has it in RRSIG and NSEC: its text and where it ends. */
function nameAt(rdata: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  while (rdata[at]! !== 0) {
    const length = rdata[at]!;
    labels.push(length === 1 && rdata[at + 1] === 0 ? '\\000' : rdata.toString('latin1', at + 1, at + 1 + length).toLowerCase());
    at += 1 + length;
  }
  return { name: `${labels.join('.')}.`, end: at + 1 };
}

/** An NSEC type bitmap (RFC 4034 §4.1.2) as type names. */
function bitmapTypes(rdata: Buffer, at: number): string[] {
  const names: Record<number, string> = { 1: 'A', 2: 'NS', 6: 'SOA', 15: 'MX', 16: 'TXT', 28: 'AAAA', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 59: 'CDS', 60: 'CDNSKEY', 128: 'NXNAME' };
  const types: string[] = [];
  while (at < rdata.length) {
    const window = rdata[at]!;
    const length = rdata[at + 1]!;
    for (let i = 0; i < length * 8; i++) if (rdata[at + 2 + (i >> 3)]! & (0x80 >> (i & 7))) types.push(names[window * 256 + i] ?? `TYPE${window * 256 + i}`);
    at += 2 + length;
  }
  return types;
}

/**
 * A response as the RFCs constrain it: one line per record, sorted per section; keys and
 * signatures left out, and an RRSIG's own TTL (Knot gives the negative SOA's RRSIG the SOA's zone
 * TTL, where RFC 4034 §3 says it MUST match the RRset's: checked for Meridian apart). From Knot,
 * NXNAME is dropped from bitmaps that list real types (see the header).
 */
function structure(response: ParsedResponse, fromKnot: boolean): { rcode: string; answer: string[]; authority: string[] } {
  const line = (record: ParsedResponse['answer'][number]): string => {
    const owner = record.name.toLowerCase();
    const rdata = record.rdata;
    switch (record.typeCode) {
      case 46: // RRSIG: covered type, algorithm, labels, original TTL, signer
        return `${owner} RRSIG ${bitmapName(rdata.readUInt16BE(0))} ${rdata[2]} ${rdata[3]} ${rdata.readUInt32BE(4)} ${nameAt(rdata, 18).name}`;
      case 48: // DNSKEY: flags, protocol, algorithm
        return `${owner} ${record.ttl} DNSKEY ${rdata.readUInt16BE(0)} ${rdata[2]} ${rdata[3]}`;
      case 47: {
        const next = nameAt(rdata, 0);
        let types = bitmapTypes(rdata, next.end);
        if (fromKnot && types.some((type) => !['NSEC', 'RRSIG', 'NXNAME'].includes(type))) types = types.filter((type) => type !== 'NXNAME');
        return `${owner} ${record.ttl} NSEC ${next.name} ${types.sort().join(' ')}`;
      }
      default:
        return `${owner} ${record.ttl} ${record.type} ${record.data}`;
    }
  };
  return { rcode: response.rcodeName, answer: response.answer.map(line).sort(), authority: response.authority.map(line).sort() };
}

function bitmapName(type: number): string {
  const bitmap = Buffer.from([type >> 8, 1 + ((type & 0xff) >> 3), ...Array<number>((type & 0xff) >> 3).fill(0), 0x80 >> (type & 7)]);
  return bitmapTypes(bitmap, 0)[0]!;
}

async function both(name: string, type: string): Promise<[ReturnType<typeof structure>, ReturnType<typeof structure>]> {
  const ask = (address: Address): Promise<ParsedResponse> => query(address, name, type, { edns: { do: true } });
  const [ours, theirs] = await Promise.all([ask(meridian.v4), ask(knot.address)]);
  return [structure(ours, false), structure(theirs, true)];
}

describe('DO=1 answers structured as Knot mod-onlinesign structures them', () => {
  it('a name that does not exist: NOERROR, the SOA and one NSEC at the name, next \\000.name, types NSEC RRSIG NXNAME (RFC 9824 §3.2)', async () => {
    const [ours, theirs] = await both('nope.os.test', 'A');
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.authority.filter((line) => line.includes(' NSEC \\')), ['nope.os.test. 60 NSEC \\000.nope.os.test. NSEC NXNAME RRSIG']);
  });

  it('a name without the type asked (NODATA): the NSEC lists the types it has, NSEC and RRSIG', async () => {
    const [ours, theirs] = await both('www.os.test', 'TXT');
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.authority.filter((line) => line.includes(' NSEC \\')), ['www.os.test. 60 NSEC \\000.www.os.test. A AAAA NSEC RRSIG']);
    assert.ok(ours.authority.includes('os.test. RRSIG SOA 13 2 300 os.test.'), 'the SOA signed with its TTL in the zone, 300, as the original TTL');
    const response = await query(meridian.v4, 'www.os.test', 'TXT', { edns: { do: true } });
    for (const record of response.authority) assert.equal(record.ttl, 60, `${record.name} ${record.type}: an RRSIG's TTL is its RRset's (RFC 4034 §3)`);
  });

  it('DNSKEY at the apex: one CSK (257 3 13), signed by it', async () => {
    const [ours, theirs] = await both('os.test', 'DNSKEY');
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.answer, ['os.test. 300 DNSKEY 257 3 13', 'os.test. RRSIG DNSKEY 13 2 300 os.test.']);
  });

  it('NSEC asked at a name that exists: the NSEC itself in the answer, its bitmap listing NSEC (not a NODATA that leaves NSEC out)', async () => {
    const [ours, theirs] = await both('www.os.test', 'NSEC');
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ours.answer, ['www.os.test. 60 NSEC \\000.www.os.test. A AAAA NSEC RRSIG', 'www.os.test. RRSIG NSEC 13 3 60 os.test.']);
  });
});

describe('where Knot 3.2 is no oracle, the RFCs are', () => {
  it('DNSKEY through a CNAME to the apex: the keys keep the apex as owner and validate (Knot renames them to the alias)', async () => {
    const response = await query(meridian.v4, 'apexalias.os.test', 'DNSKEY', { edns: { do: true } });
    assert.deepEqual(
      response.answer.map((record) => `${record.name} ${record.type}`),
      ['apexalias.os.test. CNAME', 'apexalias.os.test. RRSIG', 'os.test. DNSKEY', 'os.test. RRSIG'],
    );
    assert.deepEqual(verifySection(response.answer, trustedKey(`257 3 13 ${publicKey}`)), ['apexalias.os.test. CNAME', 'os.test. DNSKEY']);
  });

  it('an explicit query for NXNAME is FORMERR (RFC 9824 §3.5)', async () => {
    const response = await query(meridian.v4, 'www.os.test', 128, { edns: { do: true } });
    assert.equal(response.rcodeName, 'FORMERR');
  });
});
