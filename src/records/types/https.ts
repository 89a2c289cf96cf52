/**
 * HTTPS (RFC 9460 §9): the SVCB format (svcb.ts) for HTTPS origins: `{ priority, target, alpn,
 * port, ipv4hint, ipv6hint, ech, mandatory, no-default-alpn }`, at the origin's name (port 443) or
 * `_PORT._https.NAME`. Priority 0 (AliasMode) also works at a zone apex, where a CNAME cannot stand.
 */
import { RRType } from '../../wire/index.js';
import { serviceBindingType } from './svcb.js';

export const HTTPS = serviceBindingType('HTTPS', RRType.HTTPS, 16);
