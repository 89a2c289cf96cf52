/**
 * Zone YAML → ZoneSource, or every problem in the file as a Diagnostic with line and column.
 * Works on the YAML AST so each message can point at the exact key or value; collects all
 * problems rather than stopping at the first.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { parseDurationMs } from '../config/duration.js';
import { ZONE_FILE_RECORD_TYPES, type AnyRecordType, type RData, type ZoneValueReader } from '../records/index.js';
import { didYouMean, type Diagnostic, type DiagnosticCode } from './diagnostic.js';
import {
  CHECK_KEYS,
  CHECK_TYPES,
  CONTINENT_CODES,
  GEO_KEYS,
  MEMBER_KEYS,
  NAME_KEYS,
  POOL_KEYS,
  SOA_KEYS,
  TOP_LEVEL_KEYS,
  type CountryCodeCheck,
} from './zone-schema.js';
import type {
  CheckSource,
  GeoRulesSource,
  MemberSource,
  NameSource,
  NetworkRule,
  PoolSource,
  RoutingSource,
  SoaSource,
  WhenAllDown,
  ZoneSource,
} from './zone-source.js';

export type ParseResult = { ok: true; zone: ZoneSource } | { ok: false; diagnostics: Diagnostic[] };

export interface ParseOptions {
  /** Decides which country codes exist (the geo layer's ISO 3166 table); format-only when absent. */
  isKnownCountry?: CountryCodeCheck;
  /**
   * Files at least this long (characters) have their `records:` read in pieces (see
   * splitRecords); default 64 KiB. Tests lower it to run small files through that path.
   */
  piecewiseFrom?: number;
  /** Called after each piece is read (the parser thread collects garbage there). */
  afterPiece?: () => void;
}

/** Where a top-level block mapping `records:` keeps its entries, cut at entry boundaries. */
interface RecordsSplit {
  /** The file without the entries of `records:` (which is left with an empty value). */
  header: string;
  /** Start and end offsets in the file of the entries removed from the header. */
  itemsStart: number;
  itemsEnd: number;
  /** Pieces of the entries region, each a run of whole entries: [start, end) offsets in the file. */
  pieces: Array<[number, number]>;
}

const PIECEWISE_FROM = 64 * 1024;
const PIECE_CHARS = 8192;
const RECORDS_LINE = /^records[ \t]*:[ \t]*(#[^\r\n]*)?\r?$/m;
const PIECE_PREFIX = 'records:\n';
const LINE_BREAKS_YAML_DOES_NOT_SEE = /\r(?!\n)|[\u2028\u2029]/;
/** The first character of the file that is not a BOM, a comment or white space. */
const FIRST_CONTENT = /^\uFEFF?(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*(\S)/;
/** How the first line of an entry, and the top-level key after the block, may start. */
const KEY_START = /[A-Za-z0-9_"']/;

/**
 * Cuts the entries of a top-level block mapping `records:` into pieces of whole entries, by
 * lines: an entry starts on a line indented exactly as the first entry is. The yaml package's
 * document model costs ~100 times the file's size while it is built (80 MB for a 680 KB,
 * 10,000-name file); parsed piece by piece, only one piece's model is alive at a time, and the
 * duplicate-key check (quadratic in the size of a mapping) runs per piece. Returns null for
 * anything this line reading cannot be sure of (several documents, directives, tabs, a root or
 * `records` in flow style, line breaks JavaScript sees and YAML does not, entry or top-level
 * lines that do not start like a key); those files, any file whose pieces do not parse cleanly
 * and any header that is not a block mapping with an empty `records:` are parsed whole, so what
 * is accepted and every message stay the same.
 */
export function splitRecords(source: string): RecordsSplit | null {
  // JavaScript's ^ and $ also break lines at a lone CR, U+2028 and U+2029, where YAML does not;
  // a root in flow style has no lines of its own to cut at.
  if (LINE_BREAKS_YAML_DOES_NOT_SEE.test(source) || /[{[]/.test(FIRST_CONTENT.exec(source)?.[1] ?? '')) return null;
  const match = RECORDS_LINE.exec(source);
  if (match === null || /^(---|\.\.\.|%)/m.test(source)) return null;
  const lineEnd = source.indexOf('\n', match.index);
  if (lineEnd < 0) return null;
  const itemsStart = lineEnd + 1;
  let itemsEnd = source.length;
  let itemIndent = -1;
  const starts: number[] = [];
  for (let lineStart = itemsStart; lineStart < source.length; ) {
    const next = source.indexOf('\n', lineStart);
    const end = next < 0 ? source.length : next;
    let indent = lineStart;
    while (indent < end && source.charCodeAt(indent) === 0x20) indent++;
    const first = source.charCodeAt(indent);
    if (first === 0x09) return null; // a tab in the indentation: leave it to the parser
    const blank = indent === end || first === 0x23 /* # */ || (first === 0x0d && indent + 1 === end);
    if (!blank) {
      const column = indent - lineStart;
      // Lines that start an entry, or the top-level key after the block, must start like a plain
      // or quoted key: a line starting with -, ?, :, an anchor, a tag or a flow collection
      // continues or reshapes what came before, which only a whole parse can tell.
      if ((column === 0 || column === itemIndent || itemIndent < 0) && !KEY_START.test(source[indent]!)) return null;
      if (column === 0) {
        itemsEnd = lineStart; // the next top-level key
        break;
      }
      if (itemIndent < 0) itemIndent = column;
      if (column < itemIndent) return null;
      if (column === itemIndent) starts.push(lineStart);
    }
    lineStart = end + 1;
  }
  if (starts.length === 0) return null;
  const pieces: Array<[number, number]> = [];
  let pieceStart = itemsStart;
  for (const start of starts) {
    if (start - pieceStart >= PIECE_CHARS) {
      pieces.push([pieceStart, start]);
      pieceStart = start;
    }
  }
  pieces.push([pieceStart, itemsEnd]);
  return { header: source.slice(0, itemsStart) + source.slice(itemsEnd), itemsStart, itemsEnd, pieces };
}

/** Thrown while reading pieces when the file must be parsed whole instead. */
class ParseWhole extends Error {}

type AnyNode = YamlNode | Pair | null | undefined;

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_TTL = 0x7fffffff;

/** Canonical text of an IP address (lower case, IPv6 compressed as node:net prints it). */
export function canonicalAddress(address: string, family: 4 | 6): string {
  if (family === 4) return address;
  // URL's host parser produces the RFC 5952 form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** An IP address as 32 or 128 bits. */
export function addressBits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head = '', tail] = canonicalAddress(address, 6).split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  let bits = 0n;
  for (const group of groups) {
    if (group.includes('.')) {
      // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
      bits = (bits << 32n) | addressBits(group, 4);
    } else bits = (bits << 16n) | BigInt(parseInt(group, 16));
  }
  return bits;
}

class ZoneFileParser implements ZoneValueReader {
  readonly diagnostics: Diagnostic[] = [];
  /** Line starts of the whole file: positions in a header or piece are mapped to it first. */
  private readonly lineCounter = new LineCounter();
  /** Header offset → file offset: the header lacks the entries between itemsStart and itemsEnd. */
  private readonly headerToFile: (offset: number) => number;
  /** Offset in the text being read (whole file, header or piece) → offset in the file. */
  private toFileOffset: (offset: number) => number;
  origin = '';

  constructor(
    private readonly file: string,
    private readonly source: string,
    private readonly options: ParseOptions,
    private readonly split: RecordsSplit | null = null,
  ) {
    this.lineCounter.addNewLine(0);
    for (let at = source.indexOf('\n'); at >= 0; at = source.indexOf('\n', at + 1)) this.lineCounter.addNewLine(at + 1);
    const removed = split === null ? 0 : split.itemsEnd - split.itemsStart;
    this.headerToFile = split === null ? (offset) => offset : (offset) => (offset < split.itemsStart ? offset : offset + removed);
    this.toFileOffset = this.headerToFile;
  }

  private position(node: AnyNode): { line: number; col: number } {
    const target = isPair(node) ? (node.key as YamlNode | null) : node;
    // A node the yaml package left without a range (a key with no value is a bare null) is
    // reported at the start of the file, as a whole parse reports it, whichever text it came from.
    const offset = target && 'range' in target && target.range ? this.toFileOffset(target.range[0]) : 0;
    return this.lineCounter.linePos(offset);
  }

  report(node: AnyNode, code: DiagnosticCode, message: string): void {
    const { line, col } = this.position(node);
    this.diagnostics.push({ file: this.file, line, col, code, message });
  }

  /** The result, or null when reading in pieces met something only a whole parse can judge. */
  parse(): ParseResult | null {
    try {
      return this.parseText();
    } catch (error) {
      if (error instanceof ParseWhole) return null;
      throw error;
    }
  }

  private parseText(): ParseResult {
    const document = parseDocument(this.split?.header ?? this.source, { prettyErrors: false, uniqueKeys: true });
    if (document.errors.length > 0 && this.split !== null) throw new ParseWhole();
    for (const error of document.errors) {
      const pos = this.lineCounter.linePos(this.toFileOffset(error.pos[0]));
      const code: DiagnosticCode = error.code === 'DUPLICATE_KEY' ? 'bad-value' : 'yaml-syntax';
      const message = error.message.split('\n')[0] ?? error.message;
      this.diagnostics.push({ file: this.file, line: pos.line, col: pos.col, code, message });
    }
    if (this.diagnostics.length > 0) return { ok: false, diagnostics: this.diagnostics };
    const root = document.contents;
    // Read in pieces, the header must be a block mapping whose records: was left empty by the cut.
    if (this.split !== null && (!isMap(root) || root.flow === true || !root.items.some((pair) => isScalar(pair.key) && pair.key.value === 'records' && isScalar(pair.value) && pair.value.value === null))) {
      throw new ParseWhole();
    }
    if (!isMap(root)) {
      this.report(root, 'bad-type', 'a zone file is a mapping with zone, soa, records (and pools, checks)');
      return { ok: false, diagnostics: this.diagnostics };
    }
    const zone = this.readZone(root);
    // Report in file order, as an editor or CI annotation list reads them.
    this.diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    if (this.diagnostics.length > 0 || zone === null) return { ok: false, diagnostics: this.diagnostics };
    return { ok: true, zone };
  }

  // ---- generic readers -------------------------------------------------------------------

  pairs(map: YAMLMap, allowed: readonly string[], where: string): Map<string, Pair> {
    const out = new Map<string, Pair>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) {
        this.report(pair, 'bad-type', `${where}: keys must be plain names`);
        continue;
      }
      if (!allowed.includes(key)) {
        this.report(pair, 'unknown-key', `unknown key "${key}" in ${where}${didYouMean(key, allowed)}`);
        continue;
      }
      out.set(key, pair);
    }
    return out;
  }

  /**
   * A pair's value node. A key with nothing after it (`mname:`, `{ A }`, `? www`) has a bare
   * null there, with no position: the pair itself stands in, so a message about the missing
   * value points at its key's line instead of the file's first.
   */
  valueNode(pair: Pair | undefined): AnyNode {
    if (pair === undefined) return undefined;
    return (pair.value as AnyNode) ?? pair;
  }

  scalar(node: AnyNode): unknown {
    return isScalar(node) ? node.value : undefined;
  }

  string(node: AnyNode, what: string): string | undefined {
    const value = this.scalar(node);
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number' && isScalar(node)) return String(node.source ?? value);
    this.report(node, 'bad-type', `${what} must be a string`);
    return undefined;
  }

  integer(node: AnyNode, what: string, min: number, max: number): number | undefined {
    const value = this.scalar(node);
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.report(node, 'bad-value', `${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value ?? null)}`);
    return undefined;
  }

  private seconds(node: AnyNode, what: string): number | undefined {
    const ms = parseDurationMs(this.scalar(node));
    if (ms === undefined || ms % 1000 !== 0 || ms / 1000 > MAX_TTL) {
      this.report(node, 'bad-duration', `${what} must be whole seconds (300, "5m", "1h"), not ${JSON.stringify(this.scalar(node) ?? null)}`);
      return undefined;
    }
    return ms / 1000;
  }

  private millis(node: AnyNode, what: string): number | undefined {
    const ms = parseDurationMs(this.scalar(node));
    if (ms === undefined || ms <= 0) {
      this.report(node, 'bad-duration', `${what} must be a duration (5, "5s", "500ms"), not ${JSON.stringify(this.scalar(node) ?? null)}`);
      return undefined;
    }
    return ms;
  }

  /** A scalar or a list of them, each item with its own node (for positions). */
  private list(node: AnyNode): AnyNode[] {
    if (isSeq(node)) return node.items as AnyNode[];
    return [node];
  }

  map(node: AnyNode, what: string): YAMLMap | undefined {
    if (isMap(node)) return node;
    this.report(node, 'bad-type', `${what} must be a mapping`);
    return undefined;
  }

  // ---- names -----------------------------------------------------------------------------

  private validName(name: string): boolean {
    if (name.length > 253) return false;
    return name.split('.').every((label) => LABEL.test(label));
  }

  /** An owner name under `records`: relative to the zone unless it ends with a dot. */
  private ownerName(node: AnyNode, raw: string): string | undefined {
    const lower = raw.toLowerCase();
    let name: string;
    if (lower === '@') name = this.origin;
    else if (lower.endsWith('.')) {
      name = lower.slice(0, -1);
      if (name !== this.origin && !name.endsWith(`.${this.origin}`)) {
        this.report(node, 'name-outside-zone', `"${raw}" is outside the zone ${this.origin}`);
        return undefined;
      }
    } else name = `${lower}.${this.origin}`;
    if (!this.validName(name)) {
      this.report(node, 'bad-name', `"${raw}" is not a valid domain name (letters, digits, "-" and "_" in labels of 1 to 63 characters)`);
      return undefined;
    }
    return name;
  }

  /**
   * A target name (NS, CNAME, MX, SRV): absolute when it ends with a dot or with the zone's own
   * name or has several labels ("mail.example.org"); a single label ("static") is in the zone.
   */
  targetName(node: AnyNode, what: string): string | undefined {
    const raw = this.string(node, what);
    if (raw === undefined) return undefined;
    const lower = raw.toLowerCase();
    let name: string;
    if (lower === '@') name = this.origin;
    else if (lower.endsWith('.')) name = lower.slice(0, -1);
    else if (lower.includes('.')) name = lower;
    else name = `${lower}.${this.origin}`;
    if (!this.validName(name)) {
      this.report(node, 'bad-name', `${what} "${raw}" is not a valid domain name`);
      return undefined;
    }
    return name;
  }

  // ---- the zone --------------------------------------------------------------------------

  /**
   * The zone cannot be read without its name, so the records are not read either. Read in
   * pieces, that would leave their YAML unparsed, and a whole parse reports YAML errors before
   * anything else: it has the say.
   */
  private stopBeforeRecords(): null {
    if (this.split !== null) throw new ParseWhole();
    return null;
  }

  private readZone(root: YAMLMap): ZoneSource | null {
    const top = this.pairs(root, TOP_LEVEL_KEYS, 'the zone file');
    const zonePair = top.get('zone');
    if (!zonePair) {
      this.report(root, 'missing-key', 'the zone file has no "zone:" (the zone\'s domain name)');
      return this.stopBeforeRecords();
    }
    const zoneRaw = this.string(this.valueNode(zonePair), 'zone');
    if (zoneRaw === undefined) return this.stopBeforeRecords();
    this.origin = zoneRaw.toLowerCase().replace(/\.$/, '');
    if (!this.validName(this.origin)) {
      this.report(this.valueNode(zonePair), 'bad-name', `zone "${zoneRaw}" is not a valid domain name`);
      return this.stopBeforeRecords();
    }
    const originPos = this.position(this.valueNode(zonePair));
    const defaultTtl = top.has('ttl') ? this.seconds(this.valueNode(top.get('ttl')), 'ttl') ?? 300 : 300;

    const soaPair = top.get('soa');
    let soa: SoaSource | undefined;
    if (!soaPair) this.report(zonePair, 'missing-soa', `zone ${this.origin} has no "soa:" block`);
    else soa = this.readSoa(this.valueNode(soaPair), defaultTtl);

    const checks = top.has('checks') ? this.readChecks(this.valueNode(top.get('checks'))) : new Map<string, CheckSource>();
    const pools = top.has('pools') ? this.readPools(this.valueNode(top.get('pools')), checks) : new Map<string, PoolSource>();
    const recordsPair = top.get('records');
    const names = this.split !== null ? this.readRecordPieces(this.split, defaultTtl, pools) : recordsPair ? this.readRecords(this.valueNode(recordsPair), defaultTtl, pools) : [];

    const apex = names.find((n) => n.name === this.origin);
    if (!apex?.records.get('NS')?.length) {
      this.report(recordsPair ?? zonePair, 'missing-ns', `zone ${this.origin} has no NS records at its apex ("@": { NS: [...] })`);
    }
    if (soa === undefined) return null;
    return {
      file: this.file,
      origin: this.origin,
      defaultTtl,
      soa,
      names,
      pools,
      checks,
      contentHash: createHash('sha256').update(this.source).digest('hex'),
      originLine: originPos.line,
      originCol: originPos.col,
    };
  }

  private readSoa(node: AnyNode, defaultTtl: number): SoaSource | undefined {
    const map = this.map(node, 'soa');
    if (!map) return undefined;
    const fields = this.pairs(map, SOA_KEYS, 'soa');
    const need = (key: string): AnyNode => {
      const pair = fields.get(key);
      if (!pair) this.report(map, 'missing-key', `soa needs "${key}"`);
      return this.valueNode(pair);
    };
    const mnameNode = need('mname');
    const rnameNode = need('rname');
    const mname = mnameNode ? this.targetName(mnameNode, 'soa mname') : undefined;
    const rname = rnameNode ? this.targetName(rnameNode, 'soa rname') : undefined;
    const serial = fields.has('serial') ? this.integer(this.valueNode(fields.get('serial')), 'soa serial', 0, 0xffffffff) : undefined;
    const time = (key: string, fallback: number): number =>
      fields.has(key) ? this.seconds(this.valueNode(fields.get(key)), `soa ${key}`) ?? fallback : fallback;
    return {
      mname: mname ?? '',
      rname: rname ?? '',
      serial,
      refresh: time('refresh', 7200),
      retry: time('retry', 900),
      expire: time('expire', 1209600),
      minimum: time('minimum', 60),
      ttl: time('ttl', defaultTtl),
    };
  }

  private readChecks(node: AnyNode): Map<string, CheckSource> {
    const checks = new Map<string, CheckSource>();
    const map = this.map(node, 'checks');
    if (!map) return checks;
    for (const pair of map.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const spec = this.map(this.valueNode(pair), `check "${name}"`);
      if (!spec) continue;
      const fields = this.pairs(spec, CHECK_KEYS, `check "${name}"`);
      const typeValue = this.scalar(this.valueNode(fields.get('type')));
      if (!fields.has('type') || !CHECK_TYPES.includes(typeValue as CheckSource['type'])) {
        this.report(fields.get('type') ?? pair, 'bad-value', `check "${name}" needs type: ${CHECK_TYPES.join(', ')}`);
        continue;
      }
      const type = typeValue as CheckSource['type'];
      if (!fields.has('port')) {
        this.report(pair, 'missing-key', `check "${name}" needs a port`);
        continue;
      }
      const port = this.integer(this.valueNode(fields.get('port')), 'port', 1, 65535);
      const get = (key: string): AnyNode => this.valueNode(fields.get(key));
      const expect: number[] = [];
      if (fields.has('expect')) {
        for (const item of this.list(get('expect'))) {
          const code = this.integer(item, 'expect (an HTTP status)', 100, 599);
          if (code !== undefined) expect.push(code);
        }
      } else expect.push(200);
      if (type === 'tcp') {
        for (const key of ['path', 'host', 'expect', 'body', 'verify']) {
          if (fields.has(key)) this.report(fields.get(key), 'bad-value', `"${key}" applies to http and https checks, not tcp`);
        }
      }
      let path = '/';
      if (fields.has('path')) {
        const raw = this.string(get('path'), 'path');
        if (raw !== undefined && !raw.startsWith('/')) this.report(get('path'), 'bad-value', 'path must start with "/"');
        else if (raw !== undefined) path = raw;
      }
      const verifyValue = fields.has('verify') ? this.scalar(get('verify')) : true;
      if (typeof verifyValue !== 'boolean') this.report(get('verify'), 'bad-type', 'verify must be true or false');
      const intervalMs = fields.has('interval') ? this.millis(get('interval'), 'interval') : 10_000;
      const timeoutMs = fields.has('timeout') ? this.millis(get('timeout'), 'timeout') : 2_000;
      if (intervalMs !== undefined && intervalMs < 1000) this.report(get('interval'), 'bad-duration', 'interval must be at least 1s');
      if (intervalMs !== undefined && timeoutMs !== undefined && timeoutMs > intervalMs) {
        this.report(get('timeout'), 'bad-duration', 'timeout must not be longer than interval');
      }
      const rise = fields.has('rise') ? this.integer(get('rise'), 'rise', 1, 100) : 2;
      const fall = fields.has('fall') ? this.integer(get('fall'), 'fall', 1, 100) : 3;
      if (port === undefined || intervalMs === undefined || timeoutMs === undefined || rise === undefined || fall === undefined) continue;
      checks.set(name, {
        name,
        type,
        port,
        path,
        host: fields.has('host') ? this.string(get('host'), 'host') : undefined,
        expect,
        body: fields.has('body') ? this.string(get('body'), 'body') : undefined,
        verify: verifyValue !== false,
        intervalMs,
        timeoutMs,
        rise,
        fall,
      });
    }
    return checks;
  }

  private readPools(node: AnyNode, checks: ReadonlyMap<string, CheckSource>): Map<string, PoolSource> {
    const pools = new Map<string, PoolSource>();
    const map = this.map(node, 'pools');
    if (!map) return pools;
    for (const pair of map.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const spec = this.map(this.valueNode(pair), `pool "${name}"`);
      if (!spec) continue;
      const fields = this.pairs(spec, POOL_KEYS, `pool "${name}"`);
      let check: string | null = null;
      if (fields.has('check')) {
        const checkName = this.string(this.valueNode(fields.get('check')), 'check');
        if (checkName !== undefined && !checks.has(checkName)) {
          this.report(this.valueNode(fields.get('check')), 'unknown-check', `unknown check "${checkName}"${didYouMean(checkName, checks.keys())}`);
        } else if (checkName !== undefined) check = checkName;
      }
      const maxAnswers = fields.has('max_answers') ? this.integer(this.valueNode(fields.get('max_answers')), 'max_answers', 1, 64) ?? null : null;
      let location: PoolSource['location'] = null;
      if (fields.has('location')) location = this.readLocation(this.valueNode(fields.get('location')));
      const members: MemberSource[] = [];
      if (!fields.has('members')) this.report(pair, 'missing-key', `pool "${name}" has no members`);
      else {
        const seen = new Set<string>();
        for (const item of this.list(this.valueNode(fields.get('members')))) {
          const member = this.readMember(item);
          if (!member) continue;
          if (seen.has(member.address)) this.report(item, 'duplicate-record', `member ${member.address} is listed twice in pool "${name}"`);
          seen.add(member.address);
          members.push(member);
        }
      }
      pools.set(name, { name, check, maxAnswers, location, members });
    }
    return pools;
  }

  private readLocation(node: AnyNode): PoolSource['location'] {
    const map = this.map(node, 'location');
    if (!map) return null;
    const fields = this.pairs(map, ['lat', 'lon'], 'location');
    const lat = this.scalar(this.valueNode(fields.get('lat')));
    const lon = this.scalar(this.valueNode(fields.get('lon')));
    if (typeof lat !== 'number' || lat < -90 || lat > 90) {
      this.report(fields.get('lat') ?? map, 'bad-value', 'location needs lat, a number from -90 to 90');
      return null;
    }
    if (typeof lon !== 'number' || lon < -180 || lon > 180) {
      this.report(fields.get('lon') ?? map, 'bad-value', 'location needs lon, a number from -180 to 180');
      return null;
    }
    return { lat, lon };
  }

  address(node: AnyNode, what: string): { address: string; family: 4 | 6 } | undefined {
    const raw = this.scalar(node);
    // Scoped addresses (fe80::1%eth0) name an interface, which a DNS answer cannot carry.
    const family = typeof raw === 'string' && !raw.includes('%') ? isIP(raw) : 0;
    if (typeof raw !== 'string' || (family !== 4 && family !== 6)) {
      this.report(node, 'bad-address', `${what} ${JSON.stringify(raw ?? null)} is not an IPv4 or IPv6 address`);
      return undefined;
    }
    return { address: canonicalAddress(raw, family), family };
  }

  private readMember(node: AnyNode): MemberSource | undefined {
    if (isMap(node)) {
      const fields = this.pairs(node, MEMBER_KEYS, 'member');
      if (!fields.has('address')) {
        this.report(node, 'missing-key', 'a member needs an address');
        return undefined;
      }
      const address = this.address(this.valueNode(fields.get('address')), 'member address');
      const probe = fields.has('probe') ? this.address(this.valueNode(fields.get('probe')), 'probe address') : undefined;
      const weight = fields.has('weight') ? this.integer(this.valueNode(fields.get('weight')), 'weight', 1, 65535) : 1;
      const enabledValue = fields.has('enabled') ? this.scalar(this.valueNode(fields.get('enabled'))) : true;
      if (typeof enabledValue !== 'boolean') this.report(this.valueNode(fields.get('enabled')), 'bad-type', 'enabled must be true or false');
      if (!address || weight === undefined) return undefined;
      return { ...address, probe: probe?.address ?? null, weight, enabled: enabledValue !== false };
    }
    const address = this.address(node, 'member');
    return address ? { ...address, probe: null, weight: 1, enabled: true } : undefined;
  }

  private poolList(node: AnyNode, pools: ReadonlyMap<string, PoolSource>, what: string): string[] | undefined {
    const names: string[] = [];
    let ok = true;
    const items = this.list(node);
    if (items.length === 0) {
      this.report(node, 'bad-value', `${what} needs at least one pool`);
      return undefined;
    }
    for (const item of items) {
      const name = this.string(item, 'a pool name');
      if (name === undefined) {
        ok = false;
        continue;
      }
      if (!pools.has(name)) {
        this.report(item, 'unknown-pool', `unknown pool "${name}"${didYouMean(name, pools.keys())}`);
        ok = false;
        continue;
      }
      names.push(name);
    }
    return ok ? names : undefined;
  }

  /**
   * `records:` read piece by piece (see splitRecords): each piece is parsed as a document of its
   * own, read, and dropped before the next. Names already defined in an earlier piece, and any
   * YAML error, send the file to a whole parse so the messages are the ones it gives.
   */
  private readRecordPieces(split: RecordsSplit, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>): NameSource[] {
    const names: NameSource[] = [];
    const seen = new Set<string>();
    for (const [start, end] of split.pieces) {
      const document = parseDocument(PIECE_PREFIX + this.source.slice(start, end), { prettyErrors: false, uniqueKeys: true });
      if (document.errors.length > 0 || !isMap(document.contents)) throw new ParseWhole();
      const records = document.contents.items[0];
      if (document.contents.items.length !== 1 || !isMap(records?.value)) throw new ParseWhole();
      this.toFileOffset = (offset) => offset - PIECE_PREFIX.length + start;
      const before = seen.size + records.value.items.length;
      this.readRecordEntries(records.value, defaultTtl, pools, seen, names);
      if (seen.size < before) throw new ParseWhole(); // a name defined twice (or a bad key): parse whole
      this.options.afterPiece?.();
    }
    this.toFileOffset = this.headerToFile;
    return names;
  }

  private readRecords(node: AnyNode, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>): NameSource[] {
    const map = this.map(node, 'records');
    if (!map) return [];
    const names: NameSource[] = [];
    this.readRecordEntries(map, defaultTtl, pools, new Set(), names);
    return names;
  }

  private readRecordEntries(map: YAMLMap, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>, seen: Set<string>, names: NameSource[]): void {
    for (const pair of map.items) {
      const raw = isScalar(pair.key) ? String(pair.key.value) : '';
      const name = this.ownerName(pair.key as AnyNode, raw);
      if (name === undefined) continue;
      if (seen.has(name)) {
        this.report(pair, 'bad-value', `"${raw}" names ${name}, which is already defined above`);
        continue;
      }
      seen.add(name);
      const spec = this.map(this.valueNode(pair), `"${raw}"`);
      if (!spec) continue;
      const entry = this.readName(name, spec, defaultTtl, pools);
      if (entry) names.push(entry);
    }
  }

  private readName(name: string, spec: YAMLMap, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>): NameSource | undefined {
    const fields = this.pairs(spec, NAME_KEYS, name === this.origin ? 'the apex "@"' : `"${name}"`);
    const ttl = fields.has('ttl') ? this.seconds(this.valueNode(fields.get('ttl')), 'ttl') ?? defaultTtl : defaultTtl;
    const records = new Map<RData['type'], RData[]>();
    for (const type of ZONE_FILE_RECORD_TYPES) {
      const pair = fields.get(type.name);
      if (!pair) continue;
      const rdatas = this.readRRset(type, this.valueNode(pair));
      records.set(type.name as RData['type'], rdatas);
    }
    const routingKeys = ['geo', 'failover', 'pool'].filter((key) => fields.has(key));
    if (routingKeys.length > 1) {
      this.report(fields.get(routingKeys[1]!), 'routing-conflict', `a name routes with one of geo, failover or pool, not ${routingKeys.join(' and ')}`);
    }
    let routing: RoutingSource | null = null;
    if (fields.has('geo')) {
      const rules = this.readGeo(this.valueNode(fields.get('geo')), pools);
      if (rules) routing = { kind: 'geo', rules };
    } else if (fields.has('failover')) {
      const list = this.poolList(this.valueNode(fields.get('failover')), pools, 'failover');
      if (list) routing = { kind: 'failover', pools: list };
    } else if (fields.has('pool')) {
      const poolNode = this.valueNode(fields.get('pool'));
      if (isSeq(poolNode)) this.report(poolNode, 'bad-type', 'pool names one pool; use failover: [a, b] for an ordered list');
      else {
        const list = this.poolList(poolNode, pools, 'pool');
        if (list?.[0] !== undefined) routing = { kind: 'pool', pools: [list[0]] };
      }
    }
    let whenAllDown: WhenAllDown = 'fail-open';
    if (fields.has('when_all_down')) {
      const value = this.scalar(this.valueNode(fields.get('when_all_down')));
      if (value === 'fail-open' || value === 'fail-closed') whenAllDown = value;
      else this.report(this.valueNode(fields.get('when_all_down')), 'bad-value', 'when_all_down is fail-open or fail-closed');
      if (routingKeys.length === 0) this.report(fields.get('when_all_down'), 'bad-value', 'when_all_down applies only to a name with geo, failover or pool');
    }

    if (fields.has('CNAME')) {
      const others = [...fields.keys()].filter((key) => key !== 'CNAME' && key !== 'ttl');
      if (others.length > 0) {
        this.report(fields.get('CNAME'), 'cname-with-other-data', `a CNAME cannot stand beside other data (${others.join(', ')}) at ${name} (RFC 1034 §3.6.2)`);
      }
      if (name === this.origin) this.report(fields.get('CNAME'), 'cname-with-other-data', 'the zone apex cannot be a CNAME: it holds the SOA and NS records');
    }
    if (routingKeys.length > 0) {
      for (const type of ['A', 'AAAA'] as const) {
        if (fields.has(type)) this.report(fields.get(type), 'routing-conflict', `${type} records beside ${routingKeys[0]} at ${name}: the pools provide the addresses`);
      }
    }
    return { name, ttl, records, routing, whenAllDown };
  }

  private readRRset(type: AnyRecordType, node: AnyNode): RData[] {
    const out: RData[] = [];
    const seen = new Set<string>();
    const onlyOne = type.yaml?.onlyOne;
    if (onlyOne !== undefined && isSeq(node)) {
      this.report(node, 'bad-type', onlyOne);
      return out;
    }
    for (const item of onlyOne === undefined ? this.list(node) : [node]) {
      const data = type.yaml?.read(item, this);
      if (data === undefined) continue;
      const rdata = { type: type.name, ...(data as object) } as RData;
      const key = JSON.stringify(rdata);
      if (seen.has(key)) {
        this.report(item, 'duplicate-record', `duplicate ${type.name} record (an RRset holds each record once, RFC 2181 §5)`);
        continue;
      }
      seen.add(key);
      out.push(rdata);
    }
    return out;
  }

  private readGeo(node: AnyNode, pools: ReadonlyMap<string, PoolSource>): GeoRulesSource | undefined {
    const map = this.map(node, 'geo');
    if (!map) return undefined;
    const fields = this.pairs(map, GEO_KEYS, 'geo');
    const keyed = <K>(key: string, parseKey: (raw: unknown, keyNode: AnyNode) => K | undefined): Map<K, string[]> => {
      const out = new Map<K, string[]>();
      if (!fields.has(key)) return out;
      const rules = this.map(this.valueNode(fields.get(key)), `geo ${key}`);
      if (!rules) return out;
      for (const rule of rules.items) {
        const parsed = parseKey(this.scalar(rule.key as AnyNode), rule.key as AnyNode);
        const list = this.poolList(this.valueNode(rule), pools, `geo ${key}`);
        if (parsed !== undefined && list) out.set(parsed, list);
      }
      return out;
    };
    const isKnownCountry = this.options.isKnownCountry ?? ((code: string) => /^[A-Z]{2}$/.test(code));
    const country = keyed('country', (raw, keyNode) => {
      const code = String(raw);
      if (!isKnownCountry(code)) {
        this.report(keyNode, 'unknown-country', `"${code}" is not an ISO 3166-1 alpha-2 country code (upper case, like GB)`);
        return undefined;
      }
      return code;
    });
    const continent = keyed('continent', (raw, keyNode) => {
      const code = String(raw);
      if (!CONTINENT_CODES.includes(code)) {
        this.report(keyNode, 'unknown-continent', `"${code}" is not a continent code (${CONTINENT_CODES.join(', ')})`);
        return undefined;
      }
      return code;
    });
    const subdivision = keyed('subdivision', (raw, keyNode) => {
      const code = String(raw);
      const match = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
      if (!match || !isKnownCountry(match[1]!)) {
        this.report(keyNode, 'bad-subdivision', `"${code}" is not an ISO 3166-2 subdivision code (country-subdivision, like US-CA)`);
        return undefined;
      }
      return code;
    });
    const asn = keyed('asn', (raw, keyNode) => {
      const text = String(raw).replace(/^AS/i, '');
      const value = Number(text);
      if (!/^\d+$/.test(text) || value < 1 || value > 0xffffffff) {
        this.report(keyNode, 'bad-value', `"${String(raw)}" is not an AS number (like 64500 or AS64500)`);
        return undefined;
      }
      return value;
    });
    const networks = keyed('network', (raw, keyNode) => this.cidr(raw, keyNode));
    const network: NetworkRule[] = [];
    for (const [rule, list] of networks) network.push({ ...rule, pools: list });
    // Longest prefix first, so the first match is the most specific.
    network.sort((a, b) => b.prefixLength - a.prefixLength);

    let nearest: string[] | null = null;
    if (fields.has('nearest')) {
      nearest = this.poolList(this.valueNode(fields.get('nearest')), pools, 'geo nearest') ?? null;
      for (const name of nearest ?? []) {
        if (!pools.get(name)?.location) {
          this.report(this.valueNode(fields.get('nearest')), 'missing-location', `pool "${name}" is used by nearest but has no location: { lat, lon }`);
        }
      }
    }
    let defaults: string[] | undefined;
    if (!fields.has('default')) this.report(map, 'missing-key', 'geo needs a default: [pools] for clients no rule matches');
    else defaults = this.poolList(this.valueNode(fields.get('default')), pools, 'geo default');
    if (!defaults) return undefined;
    return { network, asn, subdivision, country, continent, nearest, default: defaults };
  }

  private cidr(raw: unknown, node: AnyNode): Omit<NetworkRule, 'pools'> | undefined {
    const text = String(raw);
    const [address = '', prefixText, extra] = text.split('/');
    const family = address.includes('%') ? 0 : isIP(address);
    const prefixLength = Number(prefixText);
    const max = family === 4 ? 32 : 128;
    if ((family !== 4 && family !== 6) || extra !== undefined || prefixText === undefined || !/^\d+$/.test(prefixText) || prefixLength > max) {
      this.report(node, 'bad-cidr', `"${text}" is not a network in CIDR form (192.0.2.0/24, 2001:db8::/32)`);
      return undefined;
    }
    const bits = addressBits(address, family);
    const hostBits = BigInt(max - prefixLength);
    if ((bits & ((1n << hostBits) - 1n)) !== 0n) {
      this.report(node, 'bad-cidr', `"${text}" has host bits set beyond /${prefixLength}`);
      return undefined;
    }
    return { cidr: `${canonicalAddress(address, family)}/${prefixLength}`, family, prefixLength, bits };
  }
}

/** Parses and validates one zone file's text. `file` is only used in diagnostics. */
export function parseZoneFile(file: string, source: string, options: ParseOptions = {}): ParseResult {
  if (source.length >= (options.piecewiseFrom ?? PIECEWISE_FROM)) {
    const split = splitRecords(source);
    const result = split === null ? null : new ZoneFileParser(file, source, options, split).parse();
    if (result !== null) return result;
  }
  // Only a parser reading pieces gives up (null); a whole parse always has its answer.
  return new ZoneFileParser(file, source, options).parse()!;
}
