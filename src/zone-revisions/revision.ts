/**
 * The revision format: all zone files of a folder as one unit, and how one revision differs
 * from the one before. Pure: no clock, no I/O (times come in as arguments).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Diagnostic } from '../zones/index.js';

/** Bumped when the encoding changes incompatibly; an instance refuses a format it does not know. */
export const REVISION_FORMAT = 1;

/** One zone file as pushed. */
export interface RevisionFile {
  /** The file's name in the pushed folder (no folders: `example.test.yaml`). */
  name: string;
  text: string;
  /** The zone the file defines (its `zone:`). */
  zone: string;
  /** The SOA serial the file writes, or null when it omits it. */
  explicitSerial: number | null;
  /**
   * What a derived serial starts from (seconds), fixed in the revision so every instance derives
   * the same serial: the server reads it as the file's modification time.
   */
  modifiedSeconds: number;
}

export interface ZoneChange {
  zone: string;
  file: string;
  change: 'added' | 'changed' | 'removed';
  /** The serial served after the change (before it, for a removed zone). */
  serial: number;
}

/** A revision without its files: what the engine's head and `zones history` show. */
export interface RevisionSummary {
  format: number;
  number: number;
  /** ISO time of publication. */
  createdAt: string;
  message: string;
  /** The revision this one republishes (`zones rollback`), else null. */
  rollbackOf: number | null;
  /** sha256 over the files' names and texts: equal content, equal hash. */
  contentHash: string;
  /** What changed against the revision before it, by zone. */
  changes: ZoneChange[];
  /** Every zone of the revision with the serial it serves. */
  zones: { zone: string; file: string; serial: number }[];
}

export interface ZoneRevision extends RevisionSummary {
  /** Sorted by name. */
  files: RevisionFile[];
}

/** A file about to be published: its time is the file's modification time (push) or now (rollback). */
export type CandidateFile = Omit<RevisionFile, 'modifiedSeconds'> & { timeSeconds: number };

/** The serial an instance serves for this file: the written one, else the one derived from its time. */
export function servedSerial(file: RevisionFile): number {
  return file.explicitSerial ?? file.modifiedSeconds >>> 0;
}

export function contentHashOf(files: readonly Pick<RevisionFile, 'name' | 'text'>[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => compareNames(a.name, b.name))) hash.update(`${file.name}\0${file.text}\0`);
  return hash.digest('hex');
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The changes from `before` to `after`, by zone (a zone moved to another file with the same text
 * is unchanged), in zone order.
 */
export function diffRevisions(before: readonly RevisionFile[], after: readonly RevisionFile[]): ZoneChange[] {
  const old = new Map(before.map((file) => [file.zone, file]));
  const next = new Map(after.map((file) => [file.zone, file]));
  const changes: ZoneChange[] = [];
  for (const [zone, file] of next) {
    const previous = old.get(zone);
    if (previous === undefined) changes.push({ zone, file: file.name, change: 'added', serial: servedSerial(file) });
    else if (previous.text !== file.text) changes.push({ zone, file: file.name, change: 'changed', serial: servedSerial(file) });
  }
  for (const [zone, file] of old) if (!next.has(zone)) changes.push({ zone, file: file.name, change: 'removed', serial: servedSerial(file) });
  return changes.sort((a, b) => compareNames(a.zone, b.zone));
}

/**
 * The revision that publishing `files` after `previous` makes. A zone whose text is unchanged
 * keeps the time its serial was derived from (a fresh checkout does not move serials); a changed
 * one gets its file's time, and at least one second more than before, so derived serials grow
 * on every instance, through rollbacks too.
 */
export function planRevision(
  files: readonly CandidateFile[],
  previous: ZoneRevision | null,
  meta: { number: number; createdAt: string; message: string; rollbackOf?: number | null },
): ZoneRevision {
  const before = new Map((previous?.files ?? []).map((file) => [file.zone, file]));
  const planned: RevisionFile[] = [...files]
    .sort((a, b) => compareNames(a.name, b.name))
    .map(({ timeSeconds, ...file }) => {
      const old = before.get(file.zone);
      if (old !== undefined && old.text === file.text) return { ...file, modifiedSeconds: old.modifiedSeconds };
      const floor = old === undefined ? 0 : servedSerial(old) + 1;
      return { ...file, modifiedSeconds: Math.max(timeSeconds, floor) };
    });
  return {
    format: REVISION_FORMAT,
    number: meta.number,
    createdAt: meta.createdAt,
    message: meta.message,
    rollbackOf: meta.rollbackOf ?? null,
    contentHash: contentHashOf(planned),
    changes: diffRevisions(previous?.files ?? [], planned),
    zones: planned.map((file) => ({ zone: file.zone, file: file.name, serial: servedSerial(file) })),
    files: planned,
  };
}

export function summaryOf(revision: ZoneRevision): RevisionSummary {
  const { files: _files, ...summary } = revision;
  return summary;
}

/** A revision as stored in the engine: gzipped JSON (zone YAML shrinks about tenfold). */
export function encodeRevision(revision: ZoneRevision): Uint8Array {
  return gzipSync(JSON.stringify(revision));
}

/** A file name a revision may carry: one plain YAML file name, never a path. */
const SAFE_FILE_NAME = /^[^./\\\0][^/\\\0]*\.ya?ml$/i;

export class RevisionFormatError extends Error {}

/**
 * Reads a stored revision and checks it whole: known format, safe file names, and the content
 * hash it claims (a damaged or hand-made revision is refused, never half used).
 */
export function decodeRevision(bytes: Uint8Array): ZoneRevision {
  let value: unknown;
  try {
    value = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch (error) {
    throw new RevisionFormatError(`not a zone revision (${error instanceof Error ? error.message : String(error)})`);
  }
  const revision = value as ZoneRevision;
  if (typeof revision !== 'object' || revision === null || !Array.isArray(revision.files)) throw new RevisionFormatError('not a zone revision (no files)');
  if (revision.format !== REVISION_FORMAT) throw new RevisionFormatError(`revision format ${String(revision.format)} is not known to this version (it reads ${REVISION_FORMAT})`);
  for (const file of revision.files) {
    if (typeof file.name !== 'string' || !SAFE_FILE_NAME.test(file.name)) throw new RevisionFormatError(`revision ${revision.number}: unsafe file name ${JSON.stringify(file.name)}`);
    if (typeof file.text !== 'string' || !Number.isInteger(file.modifiedSeconds)) throw new RevisionFormatError(`revision ${revision.number}: file ${file.name} is incomplete`);
  }
  if (new Set(revision.files.map((file) => file.name)).size !== revision.files.length) throw new RevisionFormatError(`revision ${revision.number}: a file name appears twice`);
  const hash = contentHashOf(revision.files);
  if (hash !== revision.contentHash) throw new RevisionFormatError(`revision ${revision.number}: content does not match its hash (damaged)`);
  return revision;
}

/** `example.test changed (serial 2026120301)` lines, as push, rollback and history print them. */
export function describeChanges(changes: readonly ZoneChange[]): string[] {
  return changes.map((c) => `${c.zone} ${c.change} (${c.file}, serial ${c.serial})`);
}

/** A revision whose zone files do not all load: nothing of it was applied. */
export class RevisionRejectedError extends Error {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
  }
}

/**
 * Zones this revision changes without raising their serial (a written serial left as it was, or
 * one that goes back with a rollback): monitors comparing nameservers by serial, secondaries and
 * caches that saw the old serial take the zone for unchanged.
 */
export function serialNotes(before: RevisionSummary | null, next: RevisionSummary): string[] {
  const was = new Map((before?.zones ?? []).map((zone) => [zone.zone, zone.serial]));
  const notes: string[] = [];
  for (const change of next.changes) {
    const old = was.get(change.zone);
    if (change.change !== 'changed' || old === undefined || change.serial > old) continue;
    notes.push(
      change.serial === old
        ? `${change.zone} changed but its serial stays ${old}: raise "serial:" under "soa:" so secondaries, caches and monitors see the change`
        : `the serial of ${change.zone} goes back from ${old} to ${change.serial}; secondaries and caches that saw ${old} keep their copy: push the text with a higher serial to move them`,
    );
  }
  return notes;
}
