/**
 * What two authoritative answers must share: rcode, AA flag, and the answer and authority
 * sections as sets of records (names compared without case, order ignored). The apex NS RRset in
 * a positive answer's authority section is optional (NSD adds it, Knot does not), so it is dropped
 * on both sides before comparing.
 */
import { formatRecord, type ParsedResponse } from '../support/dns-client.js';

export interface ComparableAnswer {
  rcode: string;
  aa: boolean;
  /** Every header flag that is set ("qr aa"), for the strict comparison. */
  flags: string;
  answer: string[];
  authority: string[];
  additional: string[];
}

export function comparable(response: ParsedResponse, origin: string): ComparableAnswer {
  // Names are compared without case; the rest of a record as dig prints it.
  const lines = (records: ParsedResponse['answer']): string[] =>
    records.map((record) => formatRecord({ ...record, name: record.name.toLowerCase(), data: record.data.toLowerCase() })).sort();
  let authority = response.authority;
  if (response.rcodeName === 'NOERROR' && response.answer.length > 0) {
    authority = authority.filter((record) => !(record.type === 'NS' && record.name.toLowerCase() === `${origin}.`));
  }
  const flags = Object.entries(response.flags).flatMap(([flag, set]) => (set ? [flag] : [])).join(' ');
  return { rcode: response.rcodeName, aa: response.flags.aa, flags, answer: lines(response.answer), authority: lines(authority), additional: lines(response.additional) };
}

/**
 * The fields that differ ("rcode", "aa", "answer", "authority"); empty when the answers agree.
 * `strict` adds every header flag and the additional section.
 */
export function differingFields(a: ComparableAnswer, b: ComparableAnswer, strict = false): string[] {
  const fields: string[] = [];
  if (a.rcode !== b.rcode) fields.push('rcode');
  if (a.aa !== b.aa) fields.push('aa');
  if (strict && a.flags !== b.flags) fields.push('flags');
  if (a.answer.join('\n') !== b.answer.join('\n')) fields.push('answer');
  if (a.authority.join('\n') !== b.authority.join('\n')) fields.push('authority');
  if (strict && a.additional.join('\n') !== b.additional.join('\n')) fields.push('additional');
  return fields;
}

/** The type of a single RRset answer ("A"), or null when the answer is empty or holds several. */
export function singleRRsetType(answer: ComparableAnswer): string | null {
  const keys = new Set(answer.answer.map((line) => line.split(' ').filter((_, i) => i === 0 || i === 3).join(' ')));
  if (keys.size !== 1) return null;
  return answer.answer[0]!.split(' ')[3]!;
}

export function presentAnswer(answer: ComparableAnswer): string {
  const section = (title: string, lines: string[]): string[] => (lines.length === 0 ? [] : [`    ${title}:`, ...lines.map((line) => `      ${line}`)]);
  return [`${answer.rcode} (${answer.flags})`, ...section('answer', answer.answer), ...section('authority', answer.authority), ...section('additional', answer.additional)].join('\n');
}
