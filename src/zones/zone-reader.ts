/**
 * zones/zone-reader: reading a zone file's YAML AST with positions. Every section reader goes
 * through it: it maps a node (in the whole file, its header or a piece) to the file's line and
 * column, collects the diagnostics, and holds the readers of values shared by every section
 * (keys, strings, numbers, durations, names, addresses), each reporting its own problem.
 */
import { isIP } from 'node:net';
import { LineCounter, isMap, isPair, isScalar, isSeq, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { parseDurationMs } from '../config/duration.js';
import type { YamlValue, ZoneValueReader } from '../records/index.js';
import { canonicalAddress } from '../wire/index.js';
import type { CnameAt, PoolCnameAt } from './cname-loops.js';
import { didYouMean, type Diagnostic, type DiagnosticCode } from './diagnostic.js';
import { ParseWhole, type RecordsSplit } from './split-records.js';

export type AnyNode = YamlValue;

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAX_TTL = 0x7fffffff;

export class ZoneReader implements ZoneValueReader {
  readonly diagnostics: Diagnostic[] = [];
  /** Things that load but are probably not what was meant; they never reject the file. */
  readonly warnings: Diagnostic[] = [];
  /** Each CNAME's target and position, in file order: loops are found once every name is read. */
  readonly cnames = new Map<string, CnameAt>();
  /** Each name member's pool, target and position: loops through pools of names are found with the CNAMEs'. */
  readonly poolCnames: PoolCnameAt[] = [];
  /** Line starts of the whole file: positions in a header or piece are mapped to it first. */
  private readonly lineCounter = new LineCounter();
  /** Header offset → file offset: the header lacks the entries between itemsStart and itemsEnd. */
  private readonly headerToFile: (offset: number) => number;
  /** Offset in the text being read (whole file, header or piece) → offset in the file. */
  private toFileOffset: (offset: number) => number;
  /** The zone's name, once the header has read it: owner and target names are relative to it. */
  origin = '';
  /** Read in pieces: anything only a whole parse can judge throws ParseWhole. */
  readonly piecewise: boolean;

  constructor(
    readonly file: string,
    source: string,
    /** Decides which country codes exist; format-only when absent. */
    readonly isKnownCountry: ((code: string) => boolean) | undefined,
    split: RecordsSplit | null,
  ) {
    this.lineCounter.addNewLine(0);
    for (let at = source.indexOf('\n'); at >= 0; at = source.indexOf('\n', at + 1)) this.lineCounter.addNewLine(at + 1);
    const removed = split === null ? 0 : split.itemsEnd - split.itemsStart;
    this.headerToFile = split === null ? (offset) => offset : (offset) => (offset < split.itemsStart ? offset : offset + removed);
    this.toFileOffset = this.headerToFile;
    this.piecewise = split !== null;
  }

  /** Positions from here on are in a piece whose text starts at `fileOffset` in the file. */
  readingPiece(fileOffset: number): void {
    this.toFileOffset = (offset) => offset + fileOffset;
  }

  /** Positions from here on are in the header (or the whole file). */
  readingHeader(): void {
    this.toFileOffset = this.headerToFile;
  }

  position(node: AnyNode): { line: number; col: number } {
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

  warn(node: AnyNode, code: DiagnosticCode, message: string): void {
    const { line, col } = this.position(node);
    this.warnings.push({ file: this.file, line, col, code, message, severity: 'warning' });
  }

  /** A problem the yaml package found, at its offset in the text being read. */
  reportAt(offset: number, code: DiagnosticCode, message: string): void {
    const pos = this.lineCounter.linePos(this.toFileOffset(offset));
    this.diagnostics.push({ file: this.file, line: pos.line, col: pos.col, code, message });
  }

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

  /**
   * A value as the file wrote it, for messages: JSON would show `.inf` and `.nan` as null, and a
   * mapping or a list as null too.
   */
  shown(node: AnyNode): string {
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (!isScalar(node) || node.value === null || node.value === undefined) return 'an empty value';
    if (typeof node.value === 'string') return JSON.stringify(node.value);
    return node.source ?? String(node.value);
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
    this.report(node, 'bad-value', `${what} must be a whole number from ${min} to ${max}, not ${this.shown(node)}`);
    return undefined;
  }

  seconds(node: AnyNode, what: string): number | undefined {
    const ms = parseDurationMs(this.scalar(node));
    if (ms === undefined || ms % 1000 !== 0 || ms / 1000 > MAX_TTL) {
      this.report(node, 'bad-duration', `${what} must be whole seconds (300, "5m", "1h"), not ${this.shown(node)}`);
      return undefined;
    }
    return ms / 1000;
  }

  millis(node: AnyNode, what: string): number | undefined {
    const ms = parseDurationMs(this.scalar(node));
    if (ms === undefined || ms <= 0) {
      this.report(node, 'bad-duration', `${what} must be a duration (5, "5s", "500ms"), not ${this.shown(node)}`);
      return undefined;
    }
    return ms;
  }

  /** A scalar or a list of them, each item with its own node (for positions). */
  list(node: AnyNode): AnyNode[] {
    if (isSeq(node)) return node.items as AnyNode[];
    return [node];
  }

  map(node: AnyNode, what: string): YAMLMap | undefined {
    if (isMap(node)) return node;
    this.report(node, 'bad-type', `${what} must be a mapping`);
    return undefined;
  }

  // ---- names -----------------------------------------------------------------------------

  validName(name: string): boolean {
    if (name.length > 253) return false;
    return name.split('.').every((label) => LABEL.test(label));
  }

  /** An owner name under `records`: relative to the zone unless it ends with a dot; `*` or `*.label` is a wildcard. */
  ownerName(node: AnyNode, raw: string): string | undefined {
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
    // RFC 4592 §2.1.1: "*" makes a wildcard only as the whole leftmost label.
    const wildcard = name.startsWith('*.');
    if (name.slice(wildcard ? 2 : 0).includes('*')) {
      this.report(node, 'bad-name', `"${raw}": "*" is a wildcard only as the whole leftmost label ("*" or "*.label", RFC 4592); it cannot stand inside a label or further right`);
      return undefined;
    }
    if (name.length > 253 || !this.validName(wildcard ? name.slice(2) : name)) {
      this.report(node, 'bad-name', `"${raw}" is not a valid domain name (letters, digits, "-" and "_" in labels of 1 to 63 characters)`);
      return undefined;
    }
    return name;
  }

  /**
   * A target name (NS, CNAME, MX, SRV, SOA mname and rname): absolute when it ends with a dot or
   * with the zone's own name or has several labels ("mail.example.org"); a single label
   * ("static") is in the zone. Unlike owner names and RFC 1035 files, so a dotted name outside
   * the zone without its final dot gets a warning saying how it was read (`warnOutside: false`
   * for the SOA rname, a mailbox conventionally written that way).
   */
  targetName(node: AnyNode, what: string, { warnOutside = true }: { warnOutside?: boolean } = {}): string | undefined {
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
    if (warnOutside && !lower.endsWith('.') && lower.includes('.') && name !== this.origin && !name.endsWith(`.${this.origin}`)) {
      this.warn(
        node,
        'absolute-target',
        `${what} "${raw}" is read as the absolute name ${name}. (outside the zone ${this.origin}); ` +
          `write "${name}." to say so, or "${name}.${this.origin}." for a name in this zone`,
      );
    }
    return name;
  }

  address(node: AnyNode, what: string): { address: string; family: 4 | 6 } | undefined {
    const raw = this.scalar(node);
    // Scoped addresses (fe80::1%eth0) name an interface, which a DNS answer cannot carry.
    const family = typeof raw === 'string' && !raw.includes('%') ? isIP(raw) : 0;
    if (typeof raw !== 'string' || (family !== 4 && family !== 6)) {
      this.report(node, 'bad-address', `${what} ${this.shown(node)} is not an IPv4 or IPv6 address`);
      return undefined;
    }
    return { address: canonicalAddress(raw, family), family };
  }

  /**
   * The zone cannot be read without its name, so the records are not read either. Read in
   * pieces, that would leave their YAML unparsed, and a whole parse reports YAML errors before
   * anything else: it has the say.
   */
  stopBeforeRecords(): null {
    if (this.piecewise) throw new ParseWhole();
    return null;
  }
}
