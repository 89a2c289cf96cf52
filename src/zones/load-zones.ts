/**
 * Reads zone files from disk, validates them, and compiles the good ones. One function serves
 * the server's start, its reloads and `meridian check`, so they can never disagree.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { compileZone } from './compile-zone.js';
import type { CompiledZone, ProbeKeyOf } from './compiled-zone.js';
import type { Diagnostic } from './diagnostic.js';
import { parseZoneFile, type ParseOptions } from './parse-zone-file.js';
import type { ZoneSource } from './zone-source.js';

/** The outcome of reading one file. */
export type FileLoad = { file: string; ok: true; source: ZoneSource } | { file: string; ok: false; diagnostics: Diagnostic[] };

/** Zone files in a folder (*.yaml, *.yml, not hidden), sorted; or the one file given. */
export async function listZoneFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && /\.ya?ml$/i.test(e.name))
    .map((e) => join(path, e.name))
    .sort();
}

/** Reads and validates one zone file; never throws. */
export async function readZoneFile(file: string, options: ParseOptions = {}, displayName = file): Promise<FileLoad> {
  let text: string;
  let modifiedSeconds: number;
  try {
    // The time is taken before the text: a write in between gives a new time with the next read.
    modifiedSeconds = Math.floor((await stat(file)).mtimeMs / 1000);
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { file: displayName, ok: false, diagnostics: [{ file: displayName, line: 1, col: 1, code: 'read-error', message: reason }] };
  }
  const result = parseZoneFile(displayName, text, options);
  return result.ok ? { file: displayName, ok: true, source: { ...result.zone, modifiedSeconds } } : { file: displayName, ok: false, diagnostics: result.diagnostics };
}

/**
 * Finds zones defined by more than one file. The first file (in sorted order) keeps the zone;
 * each later one is turned into a diagnostic.
 */
export function rejectDuplicateZones(loads: readonly FileLoad[]): FileLoad[] {
  const owner = new Map<string, string>();
  return loads.map((load) => {
    if (!load.ok) return load;
    const first = owner.get(load.source.origin);
    if (first === undefined) {
      owner.set(load.source.origin, load.file);
      return load;
    }
    return {
      file: load.file,
      ok: false,
      diagnostics: [
        {
          file: load.file,
          line: load.source.originLine,
          col: load.source.originCol,
          code: 'duplicate-zone',
          message: `zone ${load.source.origin} is already defined in ${first}`,
        },
      ],
    };
  });
}

/** A path as the operator would type it: relative below the working folder, else absolute. */
export function displayZonePath(file: string, base = process.cwd()): string {
  const rel = relative(base, file);
  return rel === '' || rel.startsWith('..') ? resolve(file) : rel;
}

/** Reads every zone file under `path` (a file or a folder) with duplicate detection. */
export async function readZonePath(path: string, options: ParseOptions = {}, base = process.cwd()): Promise<FileLoad[]> {
  const files = await listZoneFiles(path);
  const loads = await Promise.all(files.map((file) => readZoneFile(file, options, displayZonePath(file, base))));
  return rejectDuplicateZones(loads);
}

/**
 * Keeps SOA serials that files omit growing: the same content keeps its serial, new content
 * gets max(previous + 1, the file's modification time in seconds), so secondaries and caches see
 * every change. Derived from the file rather than the clock, so every process of a server (the
 * workers read and compile the files themselves) derives the same serial from the same file;
 * they can only differ after two edits within one second seen by one process and not another.
 */
export class SerialKeeper {
  private readonly served = new Map<string, { hash: string; serial: number }>();

  serialFor(source: ZoneSource, nowSeconds = Math.floor(Date.now() / 1000)): number {
    if (source.soa.serial !== undefined) {
      this.served.set(source.origin, { hash: source.contentHash, serial: source.soa.serial });
      return source.soa.serial;
    }
    const previous = this.served.get(source.origin);
    if (previous && previous.hash === source.contentHash) return previous.serial;
    const base = source.modifiedSeconds ?? nowSeconds;
    const serial = previous ? Math.max(previous.serial + 1, base) >>> 0 : base >>> 0;
    this.served.set(source.origin, { hash: source.contentHash, serial });
    return serial;
  }
}

/** Compiles the sources that loaded. */
export function compileZones(sources: readonly ZoneSource[], serials: SerialKeeper, probeKeyOf: ProbeKeyOf): CompiledZone[] {
  return sources.map((source) => compileZone(source, serials.serialFor(source), probeKeyOf));
}
