/**
 * The sender of a datagram as text, from the bytes the batched UDP module hands over: the same text
 * dgram's `rinfo.address` gives (dotted quad; RFC 5952 for IPv6, as libuv prints it, `peerIpv6Text`),
 * so the query log, rate limiting, cookies and geo read one client alike whichever I/O answered.
 * Texts are remembered (the same resolvers ask again and again): a sender seen before costs no
 * allocation, in either family.
 */
import { ipv4Text, peerIpv6Text } from './address-text.js';

/** IPv4 texts remembered by value; the map starts again when full. */
const IPV4_ENTRIES = 65_536;
/** IPv6 texts in a direct-mapped table of 2^IPV6_SLOT_BITS slots: one per hash of the address, the newer address wins. */
const IPV6_SLOT_BITS = 12;
const IPV6_SLOTS = 1 << IPV6_SLOT_BITS;

export class PeerTexts {
  private ipv4 = new Map<number, string>();
  private readonly ipv6Words = new Uint32Array(IPV6_SLOTS * 4);
  private readonly ipv6Texts: (string | undefined)[] = new Array<string | undefined>(IPV6_SLOTS).fill(undefined);
  private readonly words = new Uint32Array(4);

  /** The text of the 4 (`family` 4) or 16 (`family` 6) address bytes at `at`, in network order. */
  text(bytes: Buffer, at: number, family: 4 | 6): string {
    return family === 4 ? this.ipv4Text(bytes, at) : this.ipv6Text(bytes, at);
  }

  private ipv4Text(bytes: Buffer, at: number): string {
    const value = bytes.readUInt32BE(at);
    let text = this.ipv4.get(value);
    if (text === undefined) {
      text = ipv4Text(bytes, at);
      if (this.ipv4.size >= IPV4_ENTRIES) this.ipv4 = new Map();
      this.ipv4.set(value, text);
    }
    return text;
  }

  private ipv6Text(bytes: Buffer, at: number): string {
    const words = this.words;
    for (let w = 0; w < 4; w++) words[w] = bytes.readUInt32BE(at + 4 * w);
    const slot = Math.imul(words[0]! ^ words[1]! ^ words[2]! ^ Math.imul(words[3]!, 0x9e3779b1), 0x85ebca6b) >>> (32 - IPV6_SLOT_BITS);
    const kept = this.ipv6Words;
    const base = slot * 4;
    const text = this.ipv6Texts[slot];
    if (text !== undefined && kept[base] === words[0] && kept[base + 1] === words[1] && kept[base + 2] === words[2] && kept[base + 3] === words[3]) return text;
    const fresh = peerIpv6Text(words);
    kept.set(words, base);
    this.ipv6Texts[slot] = fresh;
    return fresh;
  }
}
