/**
 * An RRSIG checker for the tests, written from RFC 4034 §3.1.8.1 and §6 and RFC 6605/8080 with
 * node:crypto, independent of src/dnssec: it reads the signed answers as a validator would,
 * from the decoded message's RDATA bytes and the zone's DNSKEY.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DecodedRecord } from '../../src/wire/index.js';

const RRSIG = 46;

/** A DNSKEY from its presentation (`257 3 13 BASE64`), as a public key and its algorithm. */
export interface TrustedKey {
  algorithm: number;
  tag: number;
  key: KeyObject;
}

function wireName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '').toLowerCase();
  if (trimmed === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of trimmed.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function trustedKey(dnskey: string): TrustedKey {
  const [flags, protocol, algorithm, ...rest] = dnskey.trim().split(/\s+/);
  const publicKey = Buffer.from(rest.join(''), 'base64');
  const rdata = Buffer.concat([Buffer.from([Number(flags) >> 8, Number(flags) & 0xff, Number(protocol), Number(algorithm)]), publicKey]);
  let sum = 0;
  for (let i = 0; i < rdata.length; i++) sum += i & 1 ? rdata[i]! : rdata[i]! << 8;
  const tag = (sum + ((sum >> 16) & 0xffff)) & 0xffff;
  const jwk =
    Number(algorithm) === 13
      ? { kty: 'EC', crv: 'P-256', x: publicKey.subarray(0, 32).toString('base64url'), y: publicKey.subarray(32).toString('base64url') }
      : { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') };
  return { algorithm: Number(algorithm), tag, key: createPublicKey({ key: jwk, format: 'jwk' }) };
}

/**
 * RDATA in canonical form (RFC 4034 §6.2): the names inside NS, CNAME and SOA uncompressed and in
 * lower case, rebuilt from their presentation (a server may compress them on the wire).
 */
function canonicalRdata(record: DecodedRecord): Buffer {
  switch (record.typeCode) {
    case 2: // NS
    case 5: // CNAME
      return wireName(record.data);
    case 6: {
      // SOA
      const [mname, rname, ...numbers] = record.data.trim().split(/\s+/);
      const fixed = Buffer.alloc(20);
      numbers.forEach((value, i) => fixed.writeUInt32BE(Number(value), i * 4));
      return Buffer.concat([wireName(mname!), wireName(rname!), fixed]);
    }
    default:
      return Buffer.from(record.rdata);
  }
}

/** Where RRSIG RDATA's signer name ends (it is never compressed, RFC 4034 §3.1.7). */
function signerEnd(rdata: Buffer): number {
  let at = 18;
  while (rdata[at]! !== 0) at += 1 + rdata[at]!;
  return at + 1;
}

/**
 * Checks every RRset of a section against its RRSIG by `key` at time `now` (seconds): returns
 * the RRsets as "owner TYPE" that validate, and throws on one that has no valid signature.
 */
export function verifySection(records: readonly DecodedRecord[], key: TrustedKey, now = Math.floor(Date.now() / 1000)): string[] {
  const sets = new Map<string, DecodedRecord[]>();
  const signatures: DecodedRecord[] = [];
  for (const record of records) {
    if (record.typeCode === RRSIG) signatures.push(record);
    else {
      const id = `${record.name.toLowerCase()} ${record.type}`;
      sets.set(id, [...(sets.get(id) ?? []), record]);
    }
  }
  const verified: string[] = [];
  for (const [id, set] of sets) {
    const owner = set[0]!.name;
    const candidates = signatures.filter((sig) => sig.name.toLowerCase() === owner.toLowerCase() && sig.rdata.readUInt16BE(0) === set[0]!.typeCode);
    const ok = candidates.some((sig) => {
      const rdata = sig.rdata;
      if (rdata[2] !== key.algorithm || rdata.readUInt16BE(16) !== key.tag) return false;
      const expiration = rdata.readUInt32BE(8);
      const inception = rdata.readUInt32BE(12);
      if (now < inception || now > expiration) return false;
      const labels = rdata[3]!;
      if (labels !== owner.replace(/\.$/, '').split('.').length) return false;
      const originalTtl = rdata.readUInt32BE(4);
      const end = signerEnd(rdata);
      const ownerWire = wireName(owner);
      const rdatas = [...new Map(set.map((record) => canonicalRdata(record)).map((rdata) => [rdata.toString('hex'), rdata])).values()].sort(Buffer.compare);
      const parts: Buffer[] = [rdata.subarray(0, end)];
      for (const each of rdatas) {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt16BE(set[0]!.typeCode, 0);
        fixed.writeUInt16BE(1, 2);
        fixed.writeUInt32BE(originalTtl, 4);
        fixed.writeUInt16BE(each.length, 8);
        parts.push(ownerWire, fixed, each);
      }
      const data = Buffer.concat(parts);
      const signature = rdata.subarray(end);
      return key.algorithm === 13 ? verify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature) : verify(null, data, key.key, signature);
    });
    if (!ok) throw new Error(`no valid RRSIG by key ${key.tag} over ${id}`);
    verified.push(id);
  }
  return verified.sort();
}
