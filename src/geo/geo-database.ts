/**
 * Loading one MaxMind DB file: read it ourselves, check its structure, build a maxmind Reader,
 * decode a few sample records and decide what kind of database it is. Everything here runs at
 * start-up or reload time, never per query; any failure is a GeoDatabaseError naming the file.
 */
import { readFile, stat } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import { readAsnRecord, type LocationFacts } from './location-record.js';

/** Which half of a ClientLocation a database feeds. */
export type GeoDatabaseKind = 'location' | 'asn';

/** The record layout of a database: GeoIP2/GeoLite2 City or Country, flat `{country_code}`, or ASN. */
export type GeoDatabaseSchema = 'city' | 'country' | 'flat' | 'asn';

/** A database file that could not be used; `reason` is short and fit for a log field. */
export class GeoDatabaseError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** True when the file changed while being read: worth retrying shortly, not worth an error log. */
    readonly transient = false,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'GeoDatabaseError';
  }
}

/** One loaded database: the reader plus what the locator and describe() need to know about it. */
export interface GeoDatabase {
  readonly file: string;
  readonly reader: Reader<Response>;
  readonly kind: GeoDatabaseKind;
  readonly schema: GeoDatabaseSchema;
  readonly databaseType: string;
  readonly ipVersion: 4 | 6;
  readonly buildDate: Date;
  readonly nodeCount: number;
  /** Identity of the file content that was loaded (device, inode, size, mtime). */
  readonly signature: string;
  readonly loadedAt: Date;
  /** Derived facts per decoded record object, so a cached record is interpreted only once. */
  readonly facts: WeakMap<object, LocationFacts>;
}

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // \xab\xcd\xefMaxMind.com
const METADATA_MAX_SIZE = 128 * 1024;
const DATA_SECTION_SEPARATOR = 16;
const SAMPLE_RECORDS = 8;
const SAMPLE_STEP_BUDGET = 200_000;
const CACHE_GENERATION_SIZE = 10_000;

/**
 * The maxmind decoder cache. Two generations of plain Maps give LRU-like behaviour without
 * per-hit bookkeeping; keeping decoded objects stable is also what lets `facts` work.
 */
class GenerationCache {
  private current = new Map<string | number, unknown>();
  private previous = new Map<string | number, unknown>();

  get(key: string | number): unknown {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string | number, value: unknown): void {
    if (this.current.size >= CACHE_GENERATION_SIZE) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

/** A short identity of a file's current content, for change detection. */
export async function fileSignature(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
}

/** Reads, checks and classifies a database file; rejects with a GeoDatabaseError. */
export async function loadGeoDatabase(file: string): Promise<GeoDatabase> {
  let before: string;
  let buffer: Buffer;
  let after: string;
  try {
    before = await fileSignature(file);
    buffer = await readFile(file);
    after = await fileSignature(file);
  } catch (err) {
    throw new GeoDatabaseError(file, errorText(err));
  }
  // A writer is still at work (cp, curl, an editor saving in place): try again once it settles.
  if (before !== after) throw new GeoDatabaseError(file, 'file changed while being read', true);
  return parseGeoDatabase(file, buffer, after);
}

/** Checks and classifies a database already in memory (the synchronous half of loadGeoDatabase). */
export function parseGeoDatabase(file: string, buffer: Buffer, signature = ''): GeoDatabase {
  const fail = (reason: string): never => {
    throw new GeoDatabaseError(file, reason);
  };
  if (buffer.length === 0) fail('empty file');
  // The metadata sits at the very end, so a truncated (partially written) file has no marker.
  const marker = buffer.lastIndexOf(METADATA_MARKER);
  if (marker < 0 || buffer.length - marker > METADATA_MAX_SIZE) fail('no MaxMind DB metadata (truncated or not an mmdb file)');

  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(buffer, { cache: new GenerationCache() });
  } catch (err) {
    return fail(`unreadable metadata: ${errorText(err)}`);
  }
  const meta = reader.metadata;
  if (meta.binaryFormatMajorVersion !== 2) fail(`unsupported binary format version ${String(meta.binaryFormatMajorVersion)}`);
  if (meta.ipVersion !== 4 && meta.ipVersion !== 6) fail(`bad ip_version ${String(meta.ipVersion)}`);
  if (!Number.isInteger(meta.nodeCount) || meta.nodeCount <= 0) fail(`bad node_count ${String(meta.nodeCount)}`);
  if (meta.searchTreeSize + DATA_SECTION_SEPARATOR > marker) fail('search tree is larger than the file');

  const samples = sampleRecords(reader, buffer, marker, fail);
  if (samples.length === 0) fail('database holds no records');
  const databaseType = typeof meta.databaseType === 'string' ? meta.databaseType : '';
  let schema: GeoDatabaseSchema | undefined;
  for (const record of samples) {
    schema = classifyRecord(databaseType, record);
    if (schema !== undefined) break;
  }
  if (schema === undefined) {
    return fail(`unrecognised records (database_type "${databaseType}"): no country, country_code or autonomous_system_number`);
  }
  const buildDate = meta.buildEpoch instanceof Date && !Number.isNaN(meta.buildEpoch.getTime()) ? meta.buildEpoch : new Date(0);
  return {
    file,
    reader,
    kind: schema === 'asn' ? 'asn' : 'location',
    schema,
    databaseType,
    ipVersion: meta.ipVersion as 4 | 6,
    buildDate,
    nodeCount: meta.nodeCount,
    signature,
    loadedAt: new Date(),
    facts: new WeakMap(),
  };
}

function classifyRecord(databaseType: string, record: unknown): GeoDatabaseSchema | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as Readonly<Record<string, unknown>>;
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
  if (isObject(r['country']) || isObject(r['continent']) || isObject(r['registered_country'])) {
    return /city/i.test(databaseType) || 'location' in r || 'subdivisions' in r || 'city' in r ? 'city' : 'country';
  }
  if (typeof r['country_code'] === 'string') return 'flat';
  if (readAsnRecord(r) !== undefined) return 'asn';
  return undefined;
}

/**
 * Walks the search tree depth first to the first few data records and decodes them through the
 * reader (by looking up an address inside each network). This is the sanity lookup: it touches
 * the tree, the data section and the decoder, and every record pointer met is bounds-checked.
 */
function sampleRecords(reader: Reader<Response>, buffer: Buffer, marker: number, fail: (reason: string) => never): unknown[] {
  const { nodeCount, recordSize, ipVersion, searchTreeSize } = reader.metadata;
  const nodeBytes = recordSize / 4;
  const dataSize = marker - searchTreeSize - DATA_SECTION_SEPARATOR;
  const bits = ipVersion === 6 ? 128 : 32;
  const path = new Uint8Array(bits);
  const found: unknown[] = [];
  let steps = 0;

  const readRecord = (node: number, right: boolean): number => {
    const off = node * nodeBytes;
    if (recordSize === 24) return buffer.readUIntBE(off + (right ? 3 : 0), 3);
    if (recordSize === 28) {
      const middle = buffer[off + 3] ?? 0;
      return right
        ? (middle & 0x0f) * 0x1000000 + buffer.readUIntBE(off + 4, 3)
        : (middle >> 4) * 0x1000000 + buffer.readUIntBE(off, 3);
    }
    return buffer.readUInt32BE(off + (right ? 4 : 0));
  };

  const visit = (node: number, depth: number): void => {
    for (const right of [false, true]) {
      if (found.length >= SAMPLE_RECORDS || ++steps > SAMPLE_STEP_BUDGET) return;
      if (depth >= bits) fail('search tree deeper than the address');
      path[depth] = right ? 1 : 0;
      const value = readRecord(node, right);
      if (value === nodeCount) continue;
      if (value < nodeCount) {
        visit(value, depth + 1);
        continue;
      }
      if (value - nodeCount - DATA_SECTION_SEPARATOR >= dataSize) fail('record points past the data section');
      const address = pathToAddress(path, depth + 1, ipVersion);
      try {
        found.push(reader.get(address));
      } catch (err) {
        fail(`undecodable record for ${address}: ${errorText(err)}`);
      }
    }
  };
  visit(0, 0);
  return found;
}

// The first address of the network whose first `length` bits are `path`.
function pathToAddress(path: Uint8Array, length: number, ipVersion: number): string {
  const bytes = new Uint8Array(ipVersion === 6 ? 16 : 4);
  for (let i = 0; i < length; i++) if (path[i]) bytes[i >> 3] = (bytes[i >> 3] ?? 0) | (0x80 >> (i & 7));
  if (ipVersion !== 6) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** A one-line description of an unknown thrown value. */
export function errorText(err: unknown): string {
  if (err instanceof GeoDatabaseError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}
