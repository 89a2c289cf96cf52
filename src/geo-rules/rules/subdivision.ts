/**
 * geo-rules/rules/subdivision: `subdivision: { US-CA: [pools] }` (ISO 3166-2), matched with a
 * City database; the most specific of the client's subdivisions that has a rule wins.
 */
import { keyedRule } from './keyed.js';

export const subdivision = keyedRule({
  key: 'subdivision',
  parseKey(raw, keyNode, reader) {
    const code = String(raw);
    const match = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
    if (!match || !reader.isKnownCountry(match[1]!)) {
      reader.zone.report(keyNode, 'bad-subdivision', `"${code}" is not an ISO 3166-2 subdivision code (country-subdivision, like US-CA)`);
      return undefined;
    }
    return code;
  },
  select(rules, client) {
    const subdivisions = client.location.subdivisions;
    if (!subdivisions) return null;
    for (let i = subdivisions.length - 1; i >= 0; i--) {
      const code = subdivisions[i]!;
      const pools = rules.get(code);
      if (pools) return { pools, ruleKey: code };
    }
    return null;
  },
  consultedScope: (client) => client.location.locationPrefixLength,
});
