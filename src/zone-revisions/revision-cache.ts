/**
 * A revision on an instance's disk, under `--state-dir`: `zone-revisions/<N>/` holds its zone
 * files (each file's modification time set to the revision's, so derived serials agree across the
 * fleet) and `revision.json` (its summary); `zone-revisions/served.json` names the revision last
 * served. The server loads the folder exactly as it loads `--zones`, and an instance started while
 * the engine is unreachable serves what `served.json` names.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RevisionSummary, ZoneRevision } from './revision.js';
import { summaryOf } from './revision.js';

const REVISIONS_FOLDER = 'zone-revisions';
const SERVED_FILE = 'served.json';
const SUMMARY_FILE = 'revision.json';

/** A revision written out, ready to load. */
export interface CachedRevision {
  folder: string;
  summary: RevisionSummary;
}

function revisionsFolder(stateDir: string): string {
  return join(stateDir, REVISIONS_FOLDER);
}

/**
 * Writes a revision's files into its own folder: first into a temporary folder, renamed into
 * place once complete, so a folder under its final name always holds the whole revision.
 */
export async function writeRevisionFolder(stateDir: string, revision: ZoneRevision): Promise<CachedRevision> {
  const parent = revisionsFolder(stateDir);
  const folder = join(parent, String(revision.number));
  const summary = summaryOf(revision);
  const existing = await readSummary(folder);
  if (existing?.contentHash === revision.contentHash && existing.number === revision.number) return { folder, summary: existing };
  const temp = join(parent, `.${revision.number}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(temp, { recursive: true });
  try {
    for (const file of revision.files) {
      const path = join(temp, file.name);
      await writeFile(path, file.text, 'utf8');
      await utimes(path, file.modifiedSeconds, file.modifiedSeconds);
    }
    await writeFile(join(temp, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`, 'utf8');
    await rm(folder, { recursive: true, force: true });
    await rename(temp, folder);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { folder, summary };
}

async function readSummary(folder: string): Promise<RevisionSummary | null> {
  try {
    return JSON.parse(await readFile(join(folder, SUMMARY_FILE), 'utf8')) as RevisionSummary;
  } catch {
    return null;
  }
}

/**
 * Records that `served` is what this instance now serves (temp file, fsync, rename), then
 * removes the folders of every other revision: the cache holds one revision.
 */
export async function markRevisionServed(stateDir: string, served: CachedRevision): Promise<void> {
  const parent = revisionsFolder(stateDir);
  const file = join(parent, SERVED_FILE);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify({ number: served.summary.number, contentHash: served.summary.contentHash })}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const keep = String(served.summary.number);
  for (const entry of await readdir(parent, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== keep) await rm(join(parent, entry.name), { recursive: true, force: true });
  }
}

/** The revision this instance served last, when its folder is complete; null when there is none. */
export async function readServedRevision(stateDir: string): Promise<CachedRevision | null> {
  const parent = revisionsFolder(stateDir);
  let served: { number: number; contentHash: string };
  try {
    served = JSON.parse(await readFile(join(parent, SERVED_FILE), 'utf8')) as { number: number; contentHash: string };
  } catch {
    return null;
  }
  const folder = join(parent, String(served.number));
  const summary = await readSummary(folder);
  return summary !== null && summary.contentHash === served.contentHash ? { folder, summary } : null;
}

/** An empty folder to serve from before any revision is known (everything answers REFUSED). */
export async function emptyRevisionFolder(stateDir: string): Promise<string> {
  const folder = join(revisionsFolder(stateDir), 'none');
  await mkdir(folder, { recursive: true });
  return folder;
}
