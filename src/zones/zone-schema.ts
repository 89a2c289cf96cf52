/**
 * The keys a zone file may use, in one place: the parser rejects anything else and its
 * "did you mean" hint reads the same lists. Record type keys, geo rule keys and check settings
 * come from their tables (src/records, src/geo-rules, src/health/probes).
 */
import { GEO_RULES } from '../geo-rules/index.js';
import { CHECK_SETTING_KEYS } from '../health/index.js';
import { ZONE_FILE_RECORD_TYPES } from '../records/index.js';

export const TOP_LEVEL_KEYS = ['zone', 'ttl', 'soa', 'records', 'pools', 'checks'] as const;
export const SOA_KEYS = ['mname', 'rname', 'serial', 'refresh', 'retry', 'expire', 'minimum', 'ttl'] as const;
export const NAME_KEYS: readonly string[] = ['ttl', ...ZONE_FILE_RECORD_TYPES.map((type) => type.name), 'geo', 'failover', 'pool', 'when_all_down', 'degraded_ttl'];
export const GEO_KEYS: readonly string[] = GEO_RULES.map((rule) => rule.key);
export const POOL_KEYS = ['check', 'members', 'max_answers', 'location'] as const;
export const MEMBER_KEYS = ['address', 'cname', 'probe', 'weight', 'enabled'] as const;
export const CHECK_KEYS: readonly string[] = ['type', 'port', ...CHECK_SETTING_KEYS, 'interval', 'timeout', 'rise', 'fall', 'quorum'];

/** Decides whether a two-letter code is a country. */
export type CountryCodeCheck = (code: string) => boolean;
