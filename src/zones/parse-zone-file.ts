/**
 * Zone YAML → ZoneSource, or every problem in the file as a Diagnostic with line and column.
 * Works on the YAML AST so each message can point at the exact key or value; collects all
 * problems rather than stopping at the first. A large file has its `records:` read in pieces
 * (split-records.ts); each section has its reader (read-*.ts), all going through one ZoneReader.
 */
import { createHash } from 'node:crypto';
import { parseDocument, isMap, isScalar, type YAMLMap } from 'yaml';
import { cnameLoopDiagnostics, poolCnameLoopDiagnostics } from './cname-loops.js';
import type { Diagnostic, DiagnosticCode } from './diagnostic.js';
import { readChecks } from './read-checks.js';
import { readHeader } from './read-header.js';
import { readPools } from './read-pools.js';
import { readRecordPieces, readRecords } from './read-records.js';
import { ParseWhole, splitRecords, type RecordsSplit } from './split-records.js';
import type { CountryCodeCheck } from './zone-schema.js';
import { routedPoolNames, type CheckSource, type PoolSource, type ZoneSource } from './zone-source.js';
import { ZoneReader } from './zone-reader.js';

export type ParseResult = { ok: true; zone: ZoneSource } | { ok: false; diagnostics: Diagnostic[] };

export interface ParseOptions {
  /** Decides which country codes exist (the geo layer's ISO 3166 table); format-only when absent. */
  isKnownCountry?: CountryCodeCheck;
  /**
   * Files at least this long (characters) have their `records:` read in pieces (see
   * splitRecords); default 64 KiB. Tests lower it to run small files through that path.
   */
  piecewiseFrom?: number;
  /** Characters per piece (see splitRecords); default PIECE_CHARS. Tests lower it to cut small files often. */
  pieceChars?: number;
  /** Called after each piece is read (the parser thread collects garbage there). */
  afterPiece?: () => void;
}

const PIECEWISE_FROM = 64 * 1024;

class ZoneFileParser {
  private readonly reader: ZoneReader;

  constructor(
    private readonly file: string,
    private readonly source: string,
    private readonly options: ParseOptions,
    private readonly split: RecordsSplit | null = null,
  ) {
    this.reader = new ZoneReader(file, source, options.isKnownCountry, split);
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
    const reader = this.reader;
    const document = parseDocument(this.split?.header ?? this.source, { prettyErrors: false, uniqueKeys: true });
    if (document.errors.length > 0 && this.split !== null) throw new ParseWhole();
    for (const error of document.errors) {
      const code: DiagnosticCode = error.code === 'DUPLICATE_KEY' ? 'bad-value' : 'yaml-syntax';
      reader.reportAt(error.pos[0], code, error.message.split('\n')[0] ?? error.message);
    }
    if (reader.diagnostics.length > 0) return { ok: false, diagnostics: reader.diagnostics };
    const root = document.contents;
    // Read in pieces, the header must be a block mapping whose records: was left empty by the cut.
    if (this.split !== null && (!isMap(root) || root.flow === true || !root.items.some((pair) => isScalar(pair.key) && pair.key.value === 'records' && isScalar(pair.value) && pair.value.value === null))) {
      throw new ParseWhole();
    }
    if (!isMap(root)) {
      reader.report(root, 'bad-type', 'a zone file is a mapping with zone, soa, records (and pools, checks)');
      return { ok: false, diagnostics: reader.diagnostics };
    }
    const zone = this.readZone(root);
    // Report in file order, as an editor or CI annotation list reads them.
    reader.diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    if (reader.diagnostics.length > 0 || zone === null) return { ok: false, diagnostics: reader.diagnostics };
    return { ok: true, zone };
  }

  private readZone(root: YAMLMap): ZoneSource | null {
    const reader = this.reader;
    const header = readHeader(reader, root);
    if (header === null) return null;
    const { top, zonePair, defaultTtl, soa, originPos } = header;
    const checks = top.has('checks') ? readChecks(reader, reader.valueNode(top.get('checks'))) : new Map<string, CheckSource>();
    const pools = top.has('pools') ? readPools(reader, reader.valueNode(top.get('pools')), checks) : new Map<string, PoolSource>();
    const recordsPair = top.get('records');
    const names =
      this.split !== null
        ? readRecordPieces(reader, this.source, this.split, defaultTtl, pools, this.options.afterPiece)
        : recordsPair
          ? readRecords(reader, reader.valueNode(recordsPair), defaultTtl, pools)
          : [];

    reader.diagnostics.push(...cnameLoopDiagnostics(this.file, reader.cnames, existingNames(names.map((entry) => entry.name), reader.origin)));
    if (reader.poolCnames.length > 0) {
      const routed = names.flatMap((entry) => (entry.routing === null ? [] : [{ name: entry.name, pools: routedPoolNames(entry.routing) }]));
      reader.diagnostics.push(...poolCnameLoopDiagnostics(this.file, routed, reader.poolCnames, reader.cnames));
    }
    const apex = names.find((n) => n.name === reader.origin);
    if (!apex?.records.get('NS')?.length) {
      reader.report(recordsPair ?? zonePair, 'missing-ns', `zone ${reader.origin} has no NS records at its apex ("@": { NS: [...] })`);
    }
    if (soa === undefined) return null;
    return {
      file: this.file,
      origin: reader.origin,
      defaultTtl,
      soa,
      names,
      pools,
      checks,
      contentHash: createHash('sha256').update(this.source).digest('hex'),
      modifiedSeconds: null,
      originLine: originPos.line,
      originCol: originPos.col,
      warnings: reader.warnings.sort((a, b) => a.line - b.line || a.col - b.col),
    };
  }
}

/** Every owner name and its ancestors down to the origin (empty non-terminals exist, RFC 8020). */
function existingNames(owners: readonly string[], origin: string): Set<string> {
  const existing = new Set<string>([origin]);
  for (const owner of owners) {
    for (let name = owner; name !== origin && !existing.has(name); name = name.slice(name.indexOf('.') + 1)) {
      existing.add(name);
      if (!name.includes('.')) break;
    }
  }
  return existing;
}

/** Parses and validates one zone file's text. `file` is only used in diagnostics. */
export function parseZoneFile(file: string, source: string, options: ParseOptions = {}): ParseResult {
  if (source.length >= (options.piecewiseFrom ?? PIECEWISE_FROM)) {
    const split = splitRecords(source, options.pieceChars);
    const result = split === null ? null : new ZoneFileParser(file, source, options, split).parse();
    if (result !== null) return result;
  }
  // Only a parser reading pieces gives up (null); a whole parse always has its answer.
  return new ZoneFileParser(file, source, options).parse()!;
}
