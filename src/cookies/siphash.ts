/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash of RFC 9018 server cookies. Written
 * by hand on 32-bit halves because it runs per query: no BigInt, no allocation; the state lives
 * in one module-level scratch array, which is safe since the query path is synchronous.
 */

/** A 16-byte key as four little-endian 32-bit words: k0 low, k0 high, k1 low, k1 high. */
export type SipKey = Uint32Array;

export const SIP_KEY_BYTES = 16;
export const SIP_HASH_BYTES = 8;

export function sipKey(secret: Uint8Array): SipKey {
  if (secret.length !== SIP_KEY_BYTES) throw new RangeError(`a SipHash key is ${SIP_KEY_BYTES} bytes`);
  const key = new Uint32Array(4);
  for (let i = 0; i < 4; i++) key[i] = (secret[i * 4]! | (secret[i * 4 + 1]! << 8) | (secret[i * 4 + 2]! << 16) | (secret[i * 4 + 3]! << 24)) >>> 0;
  return key;
}

// v0..v3 as (low, high) pairs: v[0]=v0 low, v[1]=v0 high, v[2]=v1 low, …
const v = new Uint32Array(8);

/** a += b (64-bit), for the pairs at a and b. */
function add(a: number, b: number): void {
  const low = v[a]! + v[b]!;
  v[a] = low;
  v[a + 1] = v[a + 1]! + v[b + 1]! + (low > 0xffffffff ? 1 : 0);
}

/** Rotates the pair at a left by n bits, 0 < n < 32. */
function rotate(a: number, n: number): void {
  const low = v[a]!;
  const high = v[a + 1]!;
  v[a] = (low << n) | (high >>> (32 - n));
  v[a + 1] = (high << n) | (low >>> (32 - n));
}

/** Rotates the pair at a by 32 bits: its halves swap. */
function swapHalves(a: number): void {
  const low = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = low;
}

/** a ^= b (64-bit). */
function xor(a: number, b: number): void {
  v[a] = v[a]! ^ v[b]!;
  v[a + 1] = v[a + 1]! ^ v[b + 1]!;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1);
  rotate(V1, 13);
  xor(V1, V0);
  swapHalves(V0);
  add(V2, V3);
  rotate(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotate(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotate(V1, 17);
  xor(V1, V2);
  swapHalves(V2);
}

/** One message word (low, high) through the two compression rounds. */
function compress(low: number, high: number): void {
  v[V3] = v[V3]! ^ low;
  v[V3 + 1] = v[V3 + 1]! ^ high;
  sipRound();
  sipRound();
  v[V0] = v[V0]! ^ low;
  v[V0 + 1] = v[V0 + 1]! ^ high;
}

function word(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
}

/** SipHash-2-4 of data[start, end) under `key`, written as 8 little-endian bytes at out[outAt]. */
export function sipHash24(key: SipKey, data: Uint8Array, start: number, end: number, out: Uint8Array, outAt: number): void {
  // "somepseudorandomlygeneratedbytes", the initialisation constants.
  v[0] = key[0]! ^ 0x70736575;
  v[1] = key[1]! ^ 0x736f6d65;
  v[2] = key[2]! ^ 0x6e646f6d;
  v[3] = key[3]! ^ 0x646f7261;
  v[4] = key[0]! ^ 0x6e657261;
  v[5] = key[1]! ^ 0x6c796765;
  v[6] = key[2]! ^ 0x79746573;
  v[7] = key[3]! ^ 0x74656462;
  const length = end - start;
  const wholeEnd = start + (length & ~7);
  let at = start;
  for (; at < wholeEnd; at += 8) compress(word(data, at), word(data, at + 4));
  // The last word: the remaining bytes, and the length's low byte as its top byte.
  let low = 0;
  let high = (length & 0xff) << 24;
  for (let i = 0; at + i < end; i++) {
    if (i < 4) low |= data[at + i]! << (8 * i);
    else high |= data[at + i]! << (8 * (i - 4));
  }
  compress(low, high);
  v[V2] = v[V2]! ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  const resultLow = v[0]! ^ v[2]! ^ v[4]! ^ v[6]!;
  const resultHigh = v[1]! ^ v[3]! ^ v[5]! ^ v[7]!;
  out[outAt] = resultLow;
  out[outAt + 1] = resultLow >>> 8;
  out[outAt + 2] = resultLow >>> 16;
  out[outAt + 3] = resultLow >>> 24;
  out[outAt + 4] = resultHigh;
  out[outAt + 5] = resultHigh >>> 8;
  out[outAt + 6] = resultHigh >>> 16;
  out[outAt + 7] = resultHigh >>> 24;
}
