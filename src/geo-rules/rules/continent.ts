/** geo-rules/rules/continent: `continent: { EU: [pools] }`, from the database or the country's continent. */
import { CONTINENT_CODES } from '../../geo/index.js';
import { keyedRule, lookup } from './keyed.js';

const CODES: readonly string[] = CONTINENT_CODES;

export const continent = keyedRule({
  key: 'continent',
  parseKey(raw, keyNode, reader) {
    const code = String(raw);
    if (!CODES.includes(code)) {
      reader.zone.report(keyNode, 'unknown-continent', `"${code}" is not a continent code (${CODES.join(', ')})`);
      return undefined;
    }
    return code;
  },
  select: (rules, client) => lookup(rules, client.location.continent),
  consultedScope: (client) => client.location.locationPrefixLength,
});
