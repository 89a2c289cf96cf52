/** geo-rules/rules/default: `default: [pools]`, required, for every client no other rule matched. */
import type { GeoRule } from '../geo-rule.js';

const NO_POOLS: readonly string[] = [];

export const defaultRule: GeoRule<'default', readonly string[]> = {
  key: 'default',
  read: (node, reader) => reader.poolList(node, 'geo default'),
  absent: NO_POOLS,
  required: 'geo needs a default: [pools] for clients no rule matches',
  inUse: () => true,
  poolLists: (pools) => [pools],
  select: (pools) => ({ pools, ruleKey: null }),
  consultedScope: () => 0,
};
