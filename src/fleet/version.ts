/** This build's version (package.json), as instances tell each other in their presence records. */
import { readFileSync } from 'node:fs';

let version: string | null = null;

export function meridianVersion(): string {
  if (version !== null) return version;
  try {
    // src/fleet/ and dist/fleet/ both sit two folders below package.json.
    const parsed = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    version = typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}
