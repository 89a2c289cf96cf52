/** A problem found in a zone file, pointing at the exact line and column. */

/** Stable codes, one per kind of problem; docs/zone-errors.md explains each. */
export type DiagnosticCode =
  | 'yaml-syntax'
  | 'unknown-key'
  | 'missing-key'
  | 'bad-type'
  | 'bad-value'
  | 'bad-address'
  | 'unusable-address'
  | 'mapped-address'
  | 'bad-name'
  | 'absolute-target'
  | 'bad-duration'
  | 'bad-cidr'
  | 'name-outside-zone'
  | 'cname-with-other-data'
  | 'cname-loop'
  | 'duplicate-record'
  | 'routing-conflict'
  | 'mixed-pool'
  | 'unknown-pool'
  | 'unknown-check'
  | 'unknown-country'
  | 'unknown-continent'
  | 'bad-subdivision'
  | 'missing-location'
  | 'duplicate-zone'
  | 'missing-soa'
  | 'missing-ns'
  | 'read-error';

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  code: DiagnosticCode;
  message: string;
  /**
   * A warning points at something legal that is probably not what was meant: the file still
   * loads and `check` still exits 0. Absent means an error.
   */
  severity?: 'warning';
}

/** The `file:line:col: message` form that editors and CI annotate (`warning: ` before a warning's message). */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message} [${d.code}]`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previousDiagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previousDiagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      previousDiagonal = saved;
    }
  }
  return row[b.length]!;
}

/** ` (did you mean "ttl"?)` when a known word is close to the unknown one, else "". */
export function didYouMean(word: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(word.length >= 3 ? 2 : 1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}
