/** geo-rules/rules/country: `country: { GB: [pools] }` (ISO 3166-1 alpha-2), matched with the location database. */
import { keyedRule, lookup } from './keyed.js';

export const country = keyedRule({
  key: 'country',
  parseKey(raw, keyNode, reader) {
    const code = String(raw);
    if (!reader.isKnownCountry(code)) {
      reader.zone.report(keyNode, 'unknown-country', `"${code}" is not an ISO 3166-1 alpha-2 country code (upper case, like GB)`);
      return undefined;
    }
    return code;
  },
  select: (rules, client) => lookup(rules, client.location.country),
  consultedScope: (client) => client.location.locationPrefixLength,
});
