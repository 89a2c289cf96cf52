/**
 * Client addresses masked to the prefix a token is kept for, and the CIDR blocks of
 * `--rrl-exempt`, read once at start-up. The words are wire's (`readAddress`: the socket's text
 * read without allocating, an IPv4 address in the first word).
 */
import { formatPrefix, readAddress } from '../wire/index.js';

/** Keeps the first `bits` bits of the address in `words` (IPv4 uses the first word only). */
export function maskAddress(words: Uint32Array, bits: number): void {
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep >= 32) continue;
    words[w] = keep <= 0 ? 0 : (words[w]! & (0xffffffff << (32 - keep))) >>> 0;
  }
}

/** A block of addresses: `--rrl-exempt 192.0.2.0/24`. */
export interface AddressBlock {
  family: 4 | 6;
  words: Uint32Array;
  bits: number;
  text: string;
}

/** Reads `ADDRESS[/BITS]`; a bare address is a block of one. Throws a message an operator can act on. */
export function parseAddressBlock(text: string): AddressBlock {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  const family = readAddress(addressText, words);
  if (family === 0 || addressText.includes('%')) throw new Error(`"${text}" is not an address block (ADDRESS or ADDRESS/BITS, e.g. 192.0.2.0/24 or 2001:db8::/32)`);
  const widest = family === 4 ? 32 : 128;
  const bits = slash === -1 ? widest : Number(text.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > widest || text.slice(slash + 1).trim() === '') {
    throw new Error(`"${text}": the prefix length must be a whole number from 0 to ${widest}`);
  }
  maskAddress(words, bits);
  return { family, words, bits, text: formatPrefix(family, words, bits) };
}

/** Whether an address (as `readAddress` left it) lies in the block. */
export function blockContains(block: AddressBlock, family: 4 | 6, words: Uint32Array): boolean {
  if (block.family !== family) return false;
  for (let w = 0; w < 4; w++) {
    const keep = block.bits - w * 32;
    if (keep <= 0) return true;
    const mask = keep >= 32 ? 0xffffffff : 0xffffffff << (32 - keep);
    if (((words[w]! & mask) >>> 0) !== block.words[w]) return false;
  }
  return true;
}
