/**
 * Property test of the zone loader on mutated YAML of the sample zone (zones/example.test.yaml):
 * characters and lines deleted, duplicated, swapped or inserted, indentation shifted, YAML's
 * own punctuation dropped in. Every result is either a loaded zone that compiles, or diagnostics
 * that each name the file and a line and column inside it; never an exception. The seed is fixed
 * and printed by fast-check with the shrunk counterexample; FUZZ_SEED replays another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compileZones, parseZoneFile, SerialKeeper } from './index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const FILE = 'example.test.yaml';
const SAMPLE = readFileSync(new URL(`../../zones/${FILE}`, import.meta.url), 'utf8');

type TextEdit =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'delete-line'; line: number }
  | { kind: 'duplicate-line'; line: number }
  | { kind: 'swap-lines'; line: number }
  | { kind: 'indent'; line: number; by: number };

function applyEdit(text: string, edit: TextEdit): string {
  if (edit.kind === 'insert' || edit.kind === 'delete') {
    const at = edit.at % (text.length + 1);
    return edit.kind === 'insert' ? text.slice(0, at) + edit.text + text.slice(at) : text.slice(0, at) + text.slice(at + edit.count);
  }
  const lines = text.split('\n');
  const i = edit.line % lines.length;
  if (edit.kind === 'delete-line') lines.splice(i, 1);
  else if (edit.kind === 'duplicate-line') lines.splice(i, 0, lines[i]!);
  else if (edit.kind === 'swap-lines' && i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
  else if (edit.kind === 'indent') lines[i] = edit.by > 0 ? ' '.repeat(edit.by) + lines[i] : lines[i]!.replace(/^ {1,4}/, '');
  return lines.join('\n');
}

/** YAML's structure characters and values the schema checks, which reach the most parser paths. */
const YAML_PIECES = [':', '-', '- ', '[', ']', '{', '}', ',', '"', "'", '#', '&a', '*a', '!!str ', '|', '>', '\n', '  ', '\t', '?', '%', '@', '0', '-1', '99999999999', '1.5', 'null', '~', 'true', '5s', '::', '300.1.1.1', '\u0000', '\uFEFF', 'é'];

const edit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...YAML_PIECES), fc.string({ maxLength: 6 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('delete-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

test(`mutated sample zones load or give diagnostics with file:line:col, never an exception (400 cases, seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      const text = edits.reduce(applyEdit, SAMPLE);
      const lineCount = text.split('\n').length;
      const parsed = parseZoneFile(FILE, text);
      if (parsed.ok) {
        assert.equal(compileZones([parsed.zone], new SerialKeeper(), (address) => address).length, 1);
        return;
      }
      assert.ok(parsed.diagnostics.length > 0, 'a rejected file says why');
      for (const d of parsed.diagnostics) {
        assert.equal(d.file, FILE);
        assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lineCount + 1, `line ${d.line} is in the file (${lineCount} lines)`);
        assert.ok(Number.isInteger(d.col) && d.col >= 1, `col ${d.col} is a column`);
        assert.ok(d.message.length > 0);
      }
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('the unmutated sample zone loads', () => {
  assert.equal(parseZoneFile(FILE, SAMPLE).ok, true);
});
