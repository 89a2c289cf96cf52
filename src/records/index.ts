/**
 * records/: the record types Meridian serves, one descriptor each (types/), registered in one
 * table (record-types.ts). A descriptor owns everything particular to its type: the code, how a
 * zone file writes it and what is wrong with a bad value, its RDATA encoding, the names whose
 * addresses go in the additional section, its place for ANY, and its presentation for
 * `explain`. Runs at zone load and in `explain`, never per query.
 */
export { genericTypeCode, refusedGenericCode } from './types/generic.js';
export type { AnyRecordType, RDataCursor, RecordType, YamlValue, ZoneValueReader } from './record-type.js';
export {
  RECORD_TYPES,
  ZONE_FILE_RECORD_TYPES,
  TYPE_CODES_FOR_ANY,
  encodeRecordTail,
  presentRData,
  recordTypeNamed,
  recordTypeOfCode,
  type RData,
  type RecordTypeName,
} from './record-types.js';
