/**
 * Client addresses masked to the prefix a token is kept for, and the CIDR blocks of
 * `--rrl-exempt`, read once at start-up. The words are wire's (`readAddress`: the socket's text
 * read without allocating, an IPv4 address in the first word).
 */
import { readAddressBlock, type AddressBlock } from '../wire/index.js';

export type { AddressBlock };

/** Keeps the first `bits` bits of the address in `words` (IPv4 uses the first word only). */
export function maskAddress(words: Uint32Array, bits: number): void {
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep >= 32) continue;
    words[w] = keep <= 0 ? 0 : (words[w]! & (0xffffffff << (32 - keep))) >>> 0;
  }
}

/** Reads a `--rrl-exempt` block: `ADDRESS[/BITS]`, a bare address a block of one, host bits cleared. Throws a message an operator can act on. */
export function parseAddressBlock(text: string): AddressBlock {
  const block = readAddressBlock(text, { bareAddress: true, hostBits: 'clear', mappedAsIpv4: true });
  if (!('fault' in block)) return block;
  if (block.fault === 'bad-prefix-length') throw new Error(`"${text}": the prefix length must be a whole number from 0 to ${block.widest}`);
  throw new Error(`"${text}" is not an address block (ADDRESS or ADDRESS/BITS, e.g. 192.0.2.0/24 or 2001:db8::/32)`);
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
