/**
 * zones/split-records: the cut of a large zone file into pieces. The entries of `records:` are
 * parsed piece by piece, so that only one piece's YAML document model is alive at a time.
 */

/** Where a top-level block mapping `records:` keeps its entries, cut at entry boundaries. */
export interface RecordsSplit {
  /** The file without the entries of `records:` (which is left with an empty value). */
  header: string;
  /** Start and end offsets in the file of the entries removed from the header. */
  itemsStart: number;
  itemsEnd: number;
  /** Pieces of the entries region, each a run of whole entries: [start, end) offsets in the file. */
  pieces: Array<[number, number]>;
}

/** Where a piece may end: at the first entry start at least this many characters after the piece's start. */
export const PIECE_CHARS = 8192;
const RECORDS_LINE = /^records[ \t]*:[ \t]*(#[^\r\n]*)?\r?$/m;
/** What each piece is parsed under, so that its entries are a mapping of their own. */
export const PIECE_PREFIX = 'records:\n';
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
 * is accepted and every message stay the same. `pieceChars` (default PIECE_CHARS) lets tests cut a
 * small file as often as a large one is cut.
 */
export function splitRecords(source: string, pieceChars = PIECE_CHARS): RecordsSplit | null {
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
    if (start - pieceStart >= pieceChars) {
      pieces.push([pieceStart, start]);
      pieceStart = start;
    }
  }
  pieces.push([pieceStart, itemsEnd]);
  return { header: source.slice(0, itemsStart) + source.slice(itemsEnd), itemsStart, itemsEnd, pieces };
}

/** Thrown while reading pieces when the file must be parsed whole instead. */
export class ParseWhole extends Error {}
