/**
 * Large zone files are read piece by piece (splitRecords): the result and every message must
 * be exactly what a whole parse of the same text gives. Each case parses the text both ways
 * (piecewiseFrom: 0 forces pieces, Infinity forbids them) and compares. The files here are cut
 * into pieces of 1000 characters instead of PIECE_CHARS (8192): a 300-name file is then cut about as
 * often (19 pieces to 25), and at the same kinds of entry, as a 3000-name file at the default size
 * (the first test checks that), for a tenth of the parsing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseZoneFile, splitRecords, type ParseResult } from './index.js';
import { PIECE_CHARS } from './split-records.js';

const HEAD = `# a large zone
zone: big.test
ttl: 300
soa: { mname: ns1.big.test, rname: hostmaster.big.test }
pools:
  web:
    members: [192.0.2.80, 192.0.2.81]
records:
  "@": { NS: [ns1.big.test, ns2.big.test] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 198.51.100.53 }
`;

/** `count` names of a few shapes: flow maps, block maps, lists, comments, block scalars. */
function manyNames(count: number, from = 1): string {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) {
    const n = String(i).padStart(5, '0');
    switch (i % 5) {
      case 0:
        lines.push(`  s${n}: { A: [192.0.2.${i % 250}, 198.51.100.${i % 250}], TXT: ["name ${i}"] }`);
        break;
      case 1:
        lines.push(`  s${n}:`, `    A: 192.0.2.${i % 250}`, `    AAAA: "2001:db8::${i.toString(16)}"`);
        break;
      case 2:
        lines.push(`# names from ${i} on`, `  s${n}:`, '    TXT:', `      - |`, `        first line ${i}`, `        second line`, '');
        break;
      case 3:
        lines.push(`  s${n}: { pool: web }   # routed`);
        break;
      default:
        lines.push(`  s${n}: { MX: [{ preference: 10, exchange: s${n}.big.test }], A: 192.0.2.1 }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The piece size of these tests, and how many names make a file of many pieces at that size. */
const SMALL_PIECE_CHARS = 1000;
const MANY = 300;

/** Which of manyNames' five shapes (name number % 5) starts each piece after the first. */
function cutShapes(text: string, pieceChars: number): Set<number> {
  const split = splitRecords(text, pieceChars);
  assert.ok(split !== null);
  return new Set(split.pieces.slice(1).map(([start]) => Number(/^ {2}s(\d+):/.exec(text.slice(start))?.[1]) % 5));
}

/** The text parsed in pieces and whole; `piecesRead` counts the pieces read before any fallback. */
function bothWays(text: string): { pieces: ParseResult; whole: ParseResult; piecesRead: number; piecesCut: number } {
  let piecesRead = 0;
  return {
    pieces: parseZoneFile('big.yaml', text, { piecewiseFrom: 0, pieceChars: SMALL_PIECE_CHARS, afterPiece: () => piecesRead++ }),
    whole: parseZoneFile('big.yaml', text, { piecewiseFrom: Infinity }),
    get piecesRead() {
      return piecesRead;
    },
    piecesCut: splitRecords(text, SMALL_PIECE_CHARS)?.pieces.length ?? 0,
  };
}

function messages(result: ParseResult): string[] {
  return result.ok ? [] : result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
}

/**
 * Asserts that `text` is cut into at least `minPieces` pieces, that every piece is read (no
 * fallback to the whole parse, which would give the same result), and that the result is the
 * whole parse's. Returns that result.
 */
function readsAsWhole(text: string, minPieces: number): ParseResult {
  const { pieces, whole, piecesRead, piecesCut } = bothWays(text);
  assert.ok(piecesCut >= minPieces, `cut into ${piecesCut} pieces, expected ${minPieces} or more`);
  assert.equal(whole.ok, true, messages(whole).join('\n'));
  assert.equal(piecesRead, piecesCut, 'every piece was read (no fallback to a whole parse)');
  assert.ok(isDeepStrictEqual(pieces, whole), 'same ZoneSource from pieces and from the whole file');
  return pieces;
}

test('the small pieces cut these files at every kind of entry a 3000-name file is cut at by default', () => {
  const large = cutShapes(HEAD + manyNames(3000), PIECE_CHARS);
  const small = cutShapes(HEAD + manyNames(MANY), SMALL_PIECE_CHARS);
  assert.deepEqual([...large].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual([...small].sort(), [...large].sort());
  assert.ok((splitRecords(HEAD + manyNames(MANY), SMALL_PIECE_CHARS)?.pieces.length ?? 0) >= 15);
});

test('a large file cut into pieces reads exactly as the whole file', () => {
  const result = readsAsWhole(HEAD + manyNames(MANY), 15);
  if (result.ok) assert.equal(result.zone.names.length, MANY + 3);
});

test('top-level keys after records: are read from the header', () => {
  const records = `  "@": { NS: [ns1.big.test] }\n  ns1: { A: 192.0.2.53 }\n${manyNames(MANY * 2 / 3)}`;
  readsAsWhole(`zone: big.test\nrecords:\n${records}soa: { mname: ns1.big.test, rname: hostmaster.big.test }\npools:\n  web: { members: [192.0.2.80] }\n`, 2);
});

test('a large file with CRLF line ends reads the same in pieces', () => {
  readsAsWhole((HEAD + manyNames(MANY)).replace(/\n/g, '\r\n'), 15);
});

test('the contract zone reads the same in one piece', () => {
  readsAsWhole(readFileSync(new URL('../../zones/example.test.yaml', import.meta.url), 'utf8'), 1);
});

test('a validation error in a late piece points at its line in the file', () => {
  const names = manyNames(MANY).split('\n');
  const at = names.findIndex((entry) => entry.startsWith(`  s${String(MANY - 10).padStart(5, '0')}:`));
  names.splice(at, 0, '  late: { A: 300.1.2.3, ttl: soon }');
  const text = HEAD + names.join('\n');
  const line = HEAD.split('\n').length - 1 + at + 1;
  const { pieces, whole, piecesRead, piecesCut } = bothWays(text);
  assert.ok(text.indexOf('  late:') >= splitRecords(text, SMALL_PIECE_CHARS)!.pieces.at(-1)![0], 'the error is in the last piece');
  assert.equal(piecesRead, piecesCut, 'read in pieces: the positions are mapped, not a fallback');
  assert.equal(pieces.ok, false);
  assert.deepEqual(messages(pieces), messages(whole));
  assert.ok(messages(pieces).every((m) => m.startsWith(`${line}:`)), messages(pieces).join('\n'));
});

test('a YAML syntax error in a piece gives the whole parse its say', () => {
  const names = manyNames(MANY).split('\n');
  const at = names.length - 50;
  names.splice(at, 0, '  broken: { A: [192.0.2.1 }');
  const text = HEAD + names.join('\n');
  const { pieces, whole } = bothWays(text);
  assert.equal(pieces.ok, false);
  assert.deepEqual(messages(pieces), messages(whole));
  assert.ok(messages(pieces).some((m) => m.includes('yaml-syntax')));
});

test('a name defined in two pieces is reported as the whole parse reports it', () => {
  const text = `${HEAD}${manyNames(MANY)}  s00001: { A: 192.0.2.99 }\n`;
  const { pieces, whole } = bothWays(text);
  assert.equal(whole.ok, false);
  assert.deepEqual(messages(pieces), messages(whole));
});

test('an alias to an anchor in another piece gets the answer of a whole parse', () => {
  // Zone files do not take aliases (the reader wants a mapping there, not an alias to one);
  // in pieces, the alias cannot even be resolved, and the whole parse has the last word.
  const text = `${HEAD}  first: &shared { A: [192.0.2.7, 192.0.2.8] }\n${manyNames(MANY)}  last: *shared\n`;
  const { pieces, whole } = bothWays(text);
  assert.equal(whole.ok, false);
  assert.deepEqual(messages(pieces), messages(whole));
});

test('inputs that once read differently in pieces read as the whole file does', () => {
  // Found by a review that set out to break the piece reader; each differed without a fallback.
  const head = 'zone: big.test\nsoa: { mname: ns1.big.test, rname: hostmaster.big.test }\nrecords:\n  "@": { NS: [ns1.big.test] }\n';
  const fill = (chars: number): string => `  fill: { TXT: "${'x'.repeat(chars)}" }\n`;
  const cases: Record<string, string> = {
    'a value the yaml package leaves without a range': `${head}  www: { A }\n`,
    'an explicit key with no value': `${head}  ? www\n`,
    'a cut between an explicit key and its value': `${head}${fill(8134)}  ? www\n  : { A: 192.0.2.1 }\n`,
    'a "records:" line after a lone CR in a comment': 'zone: big.test\nsoa: #\rrecords:\n  mname: ns1.big.test\n  rname: hostmaster.big.test\nrecords:\n  "@": { NS: [ns1.big.test] }\n',
    'the same after U+2028': 'zone: big.test\nsoa: #\u2028records:\n  mname: ns1.big.test\n  rname: hostmaster.big.test\nrecords:\n  "@": { NS: [ns1.big.test] }\n',
    'a root in flow style': `{ zone: big.test, soa: { mname: ns1.big.test, rname: hostmaster.big.test },\nrecords:\n  { "@": { NS: [ns1.big.test] }, fill: { TXT: "${'x'.repeat(8192)}" } }\n  { www: { A: 192.0.2.1 } }\n}\n`,
    'a sequence item at column 0 after the entries': `${head}- x\n`,
    'an explicit value at column 0 after the entries': `${head}: x\n`,
    // A second review: a file whose zone name cannot be read stopped before its pieces were
    // parsed, hiding their YAML errors, which a whole parse reports first.
    'no zone: and a YAML error in the records': `soa: { mname: ns1.big.test, rname: hostmaster.big.test }\nrecords:\n  www: { A: 192.0.2.1\n`,
    'a bad zone name and a duplicate name': `zone: "bad name"\n${head.slice(head.indexOf('\n') + 1)}  www: { A: 192.0.2.1 }\n  www: { A: 192.0.2.2 }\n`,
    'zone: not a string and a YAML error in the records': `zone: [a]\n${head.slice(head.indexOf('\n') + 1)}  www: [\n`,
  };
  for (const [what, text] of Object.entries(cases)) {
    const { pieces, whole } = bothWays(text);
    assert.deepEqual(messages(pieces), messages(whole), what);
    assert.ok(isDeepStrictEqual(pieces, whole), what);
  }
});

test('files the line reader cannot be sure of are not cut', () => {
  assert.equal(splitRecords(`zone: a\nrecords: { www: { A: 192.0.2.1 } }\n`), null, 'records in flow style');
  assert.equal(splitRecords(`%YAML 1.2\n---\nzone: a\nrecords:\n  www: { A: 192.0.2.1 }\n`), null, 'a directive and a document marker');
  assert.equal(splitRecords(`zone: a\nrecords:\n\twww: { A: 192.0.2.1 }\n`), null, 'a tab');
  assert.equal(splitRecords(`zone: a\nrecords:\n  - www\n`), null, 'a sequence');
});
