/** geo-rules/rules/asn: `asn: { 64500: [pools] }` (or `AS64500`), matched with the ASN database. */
import { keyedRule } from './keyed.js';

export const asn = keyedRule({
  key: 'asn',
  parseKey(raw, keyNode, reader) {
    const text = String(raw).replace(/^AS/i, '');
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > 0xffffffff) {
      reader.zone.report(keyNode, 'bad-value', `"${String(raw)}" is not an AS number (like 64500 or AS64500)`);
      return undefined;
    }
    return value;
  },
  select(rules, client) {
    const number = client.location.asn;
    const pools = number === undefined ? undefined : rules.get(number);
    return pools ? { pools, ruleKey: `AS${number}` } : null;
  },
  consultedScope: (client) => client.location.asnPrefixLength,
});
