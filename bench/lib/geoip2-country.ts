/**
 * One GeoIP database for every server in the comparison. Meridian's embedded database
 * (ip-location-db geo-whois-asn-country) has flat `{country_code}` records, which gdnsd's
 * plugin_geoip and PowerDNS's geoip backend cannot read (they want `country.iso_code` and
 * `continent.code`, the MaxMind GeoIP2-Country schema). This converts it once into a
 * GeoIP2-Country-schema file with the same networks, cached by the source file's SHA-256.
 *
 * The source networks are enumerated by walking the search tree directly (MaxMind DB format
 * spec 2.0, "Search Tree Section"): mmdb-lib's Reader has no public iterator (3.0.3 exposes only
 * get/getWithPrefixLength), so the tree walk is ours and each distinct record is read back with the
 * public `Reader.get()` on an address of the first network that points to it. The file is written
 * with the repository's test writer (test/support/mmdb-writer.ts) and the country → continent table
 * of src/geo (GeoNames assignments, the ones Meridian itself uses for a flat database).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Reader, type Response } from 'maxmind';
import { continentOf } from '../../src/geo/index.js';
import { writeMmdb, type MmdbNetwork } from '../../test/support/mmdb-writer.js';

const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com', 'ascii')]);

export interface ConvertedDatabase {
  file: string;
  cached: boolean;
  networks: number;
  /** networks whose country has no continent in the table (written with the country only) */
  withoutContinent: number;
  /** networks without a country_code (left out, as a missing network) */
  skipped: number;
  seconds: number;
  source: string;
}

interface TreeMeta {
  nodeCount: number;
  recordSize: number;
  ipVersion: number;
}

function readRecord(db: Buffer, node: number, right: boolean, recordSize: number): number {
  const nodeBytes = recordSize / 4;
  const base = node * nodeBytes;
  if (recordSize === 24) return db.readUIntBE(base + (right ? 3 : 0), 3);
  if (recordSize === 28) {
    const middle = db[base + 3]!;
    return right
      ? ((middle & 0x0f) << 24) | db.readUIntBE(base + 4, 3)
      : (((middle & 0xf0) >> 4) << 24) | db.readUIntBE(base, 3);
  }
  return db.readUInt32BE(base + (right ? 4 : 0));
}

/**
 * Every network of the tree with the data-section record it points to, in address order
 * (depth first, left first). Recursion depth is at most the tree depth (128).
 */
export function walkNetworks(db: Buffer, meta: TreeMeta, visit: (bits: Uint8Array, prefix: number, pointer: number) => void): void {
  const bits = new Uint8Array(meta.ipVersion === 6 ? 128 : 32);
  // Aliases (::ffff:0:0/96, 2002::/16 in MaxMind's own files) point back into ::/96: walk each node once.
  const visited = new Uint8Array(meta.nodeCount);
  const walk = (node: number, depth: number): void => {
    if (visited[node]) return;
    visited[node] = 1;
    for (const side of [0, 1] as const) {
      const record = readRecord(db, node, side === 1, meta.recordSize);
      bits[depth] = side;
      if (record < meta.nodeCount) walk(record, depth + 1);
      else if (record > meta.nodeCount) visit(bits, depth + 1, record); // == nodeCount: no data
    }
  };
  walk(0, 0);
}

function bitsToCidr(bits: Uint8Array, prefix: number, ipVersion: number): string {
  const total = ipVersion === 6 ? 128 : 32;
  const bytes = new Uint8Array(total / 8);
  for (let i = 0; i < prefix; i++) if (bits[i]) bytes[i >> 3]! |= 0x80 >> (i & 7);
  if (total === 32) return `${Array.from(bytes).join('.')}/${prefix}`;
  // IPv4 networks live at ::/96 in an IPv6 tree: write them as IPv4 so the writer places them there again.
  const v4mapped = prefix >= 96 && bytes.subarray(0, 12).every((b) => b === 0);
  if (v4mapped) return `${Array.from(bytes.subarray(12)).join('.')}/${prefix - 96}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}/${prefix}`;
}

function firstAddress(cidr: string): string {
  return cidr.slice(0, cidr.indexOf('/'));
}

function treeMeta(db: Buffer): TreeMeta {
  const at = db.lastIndexOf(METADATA_MARKER);
  if (at < 0) throw new Error('not a MaxMind DB file (no metadata marker)');
  const reader = new Reader(db);
  return { nodeCount: reader.metadata.nodeCount, recordSize: reader.metadata.recordSize, ipVersion: reader.metadata.ipVersion };
}

/**
 * The GeoIP2-Country-schema copy of `sourceFile` in `cacheDir` (made on first use, then reused while
 * the source file is unchanged).
 */
export function geoip2CountryDatabase(sourceFile: string, cacheDir: string): ConvertedDatabase {
  const started = process.hrtime.bigint();
  const source = readFileSync(sourceFile);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `geoip2-country-${hash}.mmdb`);
  const statsFile = `${file}.json`;
  if (existsSync(file) && existsSync(statsFile)) {
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as Omit<ConvertedDatabase, 'cached' | 'file'>;
    return { ...stats, file, cached: true, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }
  const meta = treeMeta(source);
  // the flat schema is none of mmdb-lib's typed responses: read records as plain objects
  const reader = new Reader<Response>(source);
  const byPointer = new Map<number, { country: string | null }>();
  const networks: MmdbNetwork[] = [];
  let withoutContinent = 0;
  let skipped = 0;
  const records = new Map<string, MmdbNetwork['data']>();
  walkNetworks(source, meta, (bits, prefix, pointer) => {
    const cidr = bitsToCidr(bits, prefix, meta.ipVersion);
    let entry = byPointer.get(pointer);
    if (entry === undefined) {
      const record = reader.get(firstAddress(cidr));
      const code = (record as { country_code?: unknown } | null)?.country_code;
      entry = { country: typeof code === 'string' ? code.toUpperCase() : null };
      byPointer.set(pointer, entry);
    }
    if (entry.country === null) {
      skipped++;
      return;
    }
    let data = records.get(entry.country);
    if (data === undefined) {
      const continent = continentOf(entry.country);
      data = continent === undefined
        ? { country: { iso_code: entry.country } }
        : { continent: { code: continent }, country: { iso_code: entry.country } };
      records.set(entry.country, data);
    }
    if (continentOf(entry.country) === undefined) withoutContinent++;
    networks.push({ cidr, data });
  });
  const out = writeMmdb({
    databaseType: 'GeoIP2-Country',
    networks,
    languages: ['en'],
    description: { en: `GeoIP2-Country schema copy of ${path.basename(sourceFile)} (${hash}) for the Meridian benchmark` },
  });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
  const result: ConvertedDatabase = {
    file,
    cached: false,
    networks: networks.length,
    withoutContinent,
    skipped,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    source: sourceFile,
  };
  writeFileSync(statsFile, `${JSON.stringify({ networks: result.networks, withoutContinent, skipped, seconds: result.seconds, source: sourceFile }, null, 2)}\n`);
  return result;
}
