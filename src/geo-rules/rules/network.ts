/**
 * geo-rules/rules/network: `network: { 198.51.100.0/24: [pools] }`, matched on the client's
 * address (the ECS subnet or the source). The most specific rule of all; it also narrows the
 * scope of every other rule's answer so a cached answer never covers a listed network.
 */
import type { RoutingClient } from '../../routing/index.js';
import { readAddressBlock, wordsBits } from '../../wire/index.js';
import type { GeoRule } from '../geo-rule.js';
import { readKeyed } from './keyed.js';

export interface NetworkRule {
  cidr: string;
  family: 4 | 6;
  prefixLength: number;
  /** The network address as 32 or 128 bits. */
  bits: bigint;
  pools: readonly string[];
}

function familyWidth(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function contains(rule: NetworkRule, bits: bigint, width: number): boolean {
  const shift = BigInt(width - rule.prefixLength);
  return bits >> shift === rule.bits >> shift;
}

/** Length of the common leading bits of two addresses. */
function commonPrefix(a: bigint, b: bigint, width: number): number {
  let diff = a ^ b;
  if (diff === 0n) return width;
  let bitsLeft = 0;
  while (diff > 0n) {
    diff >>= 1n;
    bitsLeft++;
  }
  return width - bitsLeft;
}

/** `192.0.2.0/24` → the rule without its pools; reported and undefined when it is not a network. */
function parseCidr(text: string): Omit<NetworkRule, 'pools'> | string {
  const block = readAddressBlock(text, { bareAddress: false, hostBits: 'reject', mappedAsIpv4: false });
  if (!('fault' in block)) return { cidr: block.text, family: block.family, prefixLength: block.bits, bits: wordsBits(block.words, block.family) };
  if (block.fault === 'host-bits-set') return `"${text}" has host bits set beyond /${text.slice(text.indexOf('/') + 1)}`;
  return `"${text}" is not a network in CIDR form (192.0.2.0/24, 2001:db8::/32)`;
}

export const network: GeoRule<'network', readonly NetworkRule[]> = {
  key: 'network',
  read(node, reader) {
    const keyed = readKeyed('network', node, reader, (raw, keyNode) => {
      const parsed = parseCidr(String(raw));
      if (typeof parsed !== 'string') return parsed;
      reader.zone.report(keyNode, 'bad-cidr', parsed);
      return undefined;
    });
    const rules: NetworkRule[] = [];
    for (const [rule, pools] of keyed) rules.push({ ...rule, pools });
    // Longest prefix first, so the first match is the most specific.
    return rules.sort((a, b) => b.prefixLength - a.prefixLength);
  },
  absent: [],
  inUse: (rules) => rules.length > 0,
  poolLists: (rules) => rules.map((rule) => rule.pools),
  select(rules, client) {
    const width = familyWidth(client.family);
    const bits = client.bits();
    for (const rule of rules) {
      if (rule.family === client.family && contains(rule, bits, width)) return { pools: rule.pools, ruleKey: rule.cidr, scope: rule.prefixLength };
    }
    return null;
  },
  consultedScope: () => 0,
  narrowScope(rules: readonly NetworkRule[], client: RoutingClient, floor: number): number {
    // No network rule more specific than the scope that the client is not in may fall inside
    // the answered subnet: widen the scope until it splits off.
    let scope = floor;
    const width = familyWidth(client.family);
    let bits: bigint | undefined;
    for (const rule of rules) {
      if (rule.family !== client.family || rule.prefixLength <= floor) continue;
      bits ??= client.bits();
      if (contains(rule, bits, width)) continue;
      const split = commonPrefix(bits, rule.bits, width) + 1;
      if (split <= rule.prefixLength && split > scope) scope = split;
    }
    return scope;
  },
};
