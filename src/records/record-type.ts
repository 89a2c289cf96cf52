/**
 * records/record-type: what a record type must say about itself — its code, how a zone file
 * writes it, how its RDATA is encoded, which names it points at, where it stands for ANY and
 * how `explain` prints it. Each type is one object meeting this contract (records/types/).
 */
import type { Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { RDataCursor } from '../wire/index.js';
import type { DiagnosticCode } from '../zones/index.js';

export type { RDataCursor };

/** A node of the zone file's YAML AST (a pair stands in for a key with no value). */
export type YamlValue = YamlNode | Pair | null | undefined;

/**
 * The zone parser's readers, as a record type uses them: each reports its own diagnostic at the
 * node's file:line:col and returns undefined when the value is bad.
 */
export interface ZoneValueReader {
  report(node: YamlValue, code: DiagnosticCode, message: string): void;
  scalar(node: YamlValue): unknown;
  string(node: YamlValue, what: string): string | undefined;
  integer(node: YamlValue, what: string, min: number, max: number): number | undefined;
  map(node: YamlValue, what: string): YAMLMap | undefined;
  /** A value or a list of them, each item with its own node (for positions). */
  list(node: YamlValue): YamlValue[];
  /** The map's pairs by key; unknown keys are reported (with a "did you mean"). */
  pairs(map: YAMLMap, allowed: readonly string[], where: string): Map<string, Pair>;
  /** A pair's value node, or the pair itself when the key has no value (for its position). */
  valueNode(pair: Pair | undefined): YamlValue;
  /** A domain name a record points at, fully qualified and lower-cased (a single label is in the zone). */
  targetName(node: YamlValue, what: string): string | undefined;
  address(node: YamlValue, what: string): { address: string; family: 4 | 6 } | undefined;
}

/**
 * One record type. `Data` is its RDATA as the zone layer holds it (without the `type` field).
 * Written as methods, which TypeScript checks bivariantly, so every type fits `AnyRecordType`.
 */
export interface RecordType<Name extends string = string, Data = unknown> {
  /** The mnemonic: the key under a name in a zone file, and the `type` label of query metrics. */
  readonly name: Name;
  readonly code: number;
  /**
   * How a name's value under this key is read, one record per item of a list (or a lone value);
   * null when the type is not written under `records:` (SOA comes from the `soa:` block).
   */
  readonly yaml: {
    read(node: YamlValue, zone: ZoneValueReader): Data | undefined;
    /** Set when a name holds at most one such record: the message for a list. */
    readonly onlyOne?: string;
  } | null;
  /** A problem of the RRset as a whole (its records are each valid), or undefined: reported at the type's key. */
  checkRRset?(rdatas: readonly Data[]): string | undefined;
  /** RDATA in wire form, uncompressed (the record must be position-independent). */
  encodeRdata(data: Data): Buffer;
  /** The name whose in-zone addresses go in the additional section (RFC 1034 §4.3.2 step 6). */
  additionalName?(data: Data): string;
  /** Rank among a name's RRsets when ANY is answered with one of them (RFC 8482 §4.1): lowest wins. */
  readonly anyRank: number;
  /** RDATA as dig prints it (`10 mail.example.org.`): the message decoder's text for `explain`, the tests and the benchmark. */
  present(rdata: RDataCursor): string;
}

/** Any record type, as the registry holds them. */
export type AnyRecordType = RecordType<string, unknown>;
