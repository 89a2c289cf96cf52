/**
 * The DNSSEC signing algorithms Meridian signs with, over node:crypto alone: ECDSA P-256 with
 * SHA-256 (algorithm 13, RFC 6605; signatures as r||s, IEEE P1363) and Ed25519 (algorithm 15,
 * RFC 8080). Each knows its DNSKEY public key form and BIND's private key form.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export interface SigningAlgorithm {
  readonly code: number;
  /** The mnemonic of RFC 8624's table, as BIND's key files and `--algorithm` spell it. */
  readonly mnemonic: string;
  /** A new private key. */
  generate(): KeyObject;
  /** The DNSKEY Public Key field of a private or public key. */
  publicKeyField(key: KeyObject): Buffer;
  /** BIND's `PrivateKey:` bytes (the P-256 scalar, the Ed25519 seed). */
  privateKeyField(key: KeyObject): Buffer;
  /** The private key from BIND's `PrivateKey:` bytes and the DNSKEY public key field. */
  importPrivate(privateField: Buffer, publicField: Buffer): KeyObject;
  /** The public key of a DNSKEY Public Key field. */
  importPublic(publicField: Buffer): KeyObject;
  sign(data: Buffer, key: KeyObject): Buffer;
  verify(data: Buffer, key: KeyObject, signature: Buffer): boolean;
}

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function jwkField(key: KeyObject, field: 'x' | 'y' | 'd'): Buffer {
  const value = key.export({ format: 'jwk' })[field];
  if (typeof value !== 'string') throw new Error(`key has no ${field}`);
  return Buffer.from(value, 'base64url');
}

export const ECDSAP256SHA256: SigningAlgorithm = {
  code: 13,
  mnemonic: 'ECDSAP256SHA256',
  generate: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
  publicKeyField: (key) => Buffer.concat([jwkField(key, 'x'), jwkField(key, 'y')]),
  privateKeyField: (key) => jwkField(key, 'd'),
  importPrivate(privateField, publicField) {
    checkLength(publicField, 64, 'ECDSAP256SHA256 public key');
    const scalar = fixedWidthScalar(privateField, 32, 'ECDSAP256SHA256 private key');
    const jwk = { kty: 'EC', crv: 'P-256', x: b64url(publicField.subarray(0, 32)), y: b64url(publicField.subarray(32)), d: b64url(scalar) };
    return createPrivateKey({ key: jwk, format: 'jwk' });
  },
  importPublic(publicField) {
    checkLength(publicField, 64, 'ECDSAP256SHA256 public key');
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(publicField.subarray(0, 32)), y: b64url(publicField.subarray(32)) }, format: 'jwk' });
  },
  sign: (data, key) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
  verify: (data, key, signature) => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature),
};

export const ED25519: SigningAlgorithm = {
  code: 15,
  mnemonic: 'ED25519',
  generate: () => generateKeyPairSync('ed25519').privateKey,
  publicKeyField: (key) => jwkField(key, 'x'),
  privateKeyField: (key) => jwkField(key, 'd'),
  importPrivate(privateField, publicField) {
    checkLength(publicField, 32, 'ED25519 public key');
    checkLength(privateField, 32, 'ED25519 private key');
    return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicField), d: b64url(privateField) }, format: 'jwk' });
  },
  importPublic(publicField) {
    checkLength(publicField, 32, 'ED25519 public key');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicField) }, format: 'jwk' });
  },
  sign: (data, key) => sign(null, data, key),
  verify: (data, key, signature) => verify(null, data, key, signature),
};

/**
 * BIND writes the ECDSA scalar as a big number without its leading zero bytes (1 key in 256 has a
 * 31-byte `PrivateKey:`), while a JWK's `d` must be the curve's full width: pad it back.
 */
function fixedWidthScalar(bytes: Buffer, width: number, what: string): Buffer {
  if (bytes.length === 0 || bytes.length > width) throw new Error(`${what} is ${bytes.length} bytes, not ${width}`);
  if (bytes.length === width) return bytes;
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes]);
}

function checkLength(bytes: Buffer, length: number, what: string): void {
  if (bytes.length !== length) throw new Error(`${what} is ${bytes.length} bytes, not ${length}`);
}

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = [ECDSAP256SHA256, ED25519];

export function algorithmOfCode(code: number): SigningAlgorithm | undefined {
  return SIGNING_ALGORITHMS.find((algorithm) => algorithm.code === code);
}

/** `--algorithm` values: the mnemonic in any case. */
export function algorithmNamed(name: string): SigningAlgorithm | undefined {
  return SIGNING_ALGORITHMS.find((algorithm) => algorithm.mnemonic === name.toUpperCase());
}
