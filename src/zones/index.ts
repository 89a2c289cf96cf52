/**
 * zones/: zone YAML → validated source → compiled zone, and the catalog of zones being served.
 * Owns the file format (schema, diagnostics with file:line:col), serial derivation and the
 * lookup structures the query path reads. Never touches sockets; never mutates a compiled
 * zone once built — a reload builds a new catalog and swaps it in whole.
 */
export * from './diagnostic.js';
export * from './zone-source.js';
export * from './zone-schema.js';
export { parseZoneFile, type ParseResult, type ParseOptions } from './parse-zone-file.js';
export { splitRecords } from './split-records.js';
export * from './compiled-zone.js';
export * from './compile-zone.js';
export * from './zone-catalog.js';
export * from './load-zones.js';
