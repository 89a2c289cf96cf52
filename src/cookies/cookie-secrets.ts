/**
 * Where the cookie secret comes from: `--cookie-secret-file` (shared by a fleet, so a resolver's
 * cookie from one instance is valid at the others) or a random one per start, and the coarse
 * clock the cookies read (one timer a second, so the query path reads no clock).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CookieSecrets } from './server-cookies.js';
import { SIP_KEY_BYTES } from './siphash.js';

const HEX_SECRET = /^(?:0x)?([0-9a-fA-F]{32})$/;

/**
 * The text of a secret file: the secret in hex (32 digits, `0x` allowed as Knot writes it) on the
 * first line, optionally the previous secret on the second (still accepted during a rotation).
 * Blank lines and `#` comments are skipped. Throws an error saying what is wrong.
 */
export function parseCookieSecrets(text: string, file: string): CookieSecrets {
  const lines = text
    .split('\n')
    .map((line, index) => ({ text: line.replace(/#.*/, '').trim(), number: index + 1 }))
    .filter((line) => line.text !== '');
  if (lines.length === 0) throw new Error(`${file}: no cookie secret (expected ${SIP_KEY_BYTES * 2} hex digits)`);
  if (lines.length > 2) throw new Error(`${file}:${lines[2]!.number}: at most two secrets (the current one, then the previous one)`);
  const secrets = lines.map((line) => {
    const match = HEX_SECRET.exec(line.text);
    if (match === null) throw new Error(`${file}:${line.number}: a cookie secret is ${SIP_KEY_BYTES} bytes written as ${SIP_KEY_BYTES * 2} hex digits`);
    return Buffer.from(match[1]!, 'hex');
  });
  return { current: secrets[0]!, previous: secrets[1] ?? null };
}

export async function readCookieSecretFile(file: string): Promise<CookieSecrets> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the cookie secret file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseCookieSecrets(text, file);
}

export function randomCookieSecrets(): CookieSecrets {
  return { current: randomBytes(SIP_KEY_BYTES), previous: null };
}

/** The secrets as a secret file's text (what a cluster primary hands its workers). */
export function formatCookieSecrets(secrets: CookieSecrets): string {
  return [secrets.current, ...(secrets.previous === null ? [] : [secrets.previous])].map((secret) => secret.toString('hex')).join('\n');
}

/** Whole seconds of Unix time, refreshed by a timer once a second; `stop()` ends the timer. */
export interface SecondsClock {
  now(): number;
  stop(): void;
}

export function tickingSecondsClock(): SecondsClock {
  let seconds = Math.floor(Date.now() / 1000);
  const timer = setInterval(() => (seconds = Math.floor(Date.now() / 1000)), 1000);
  timer.unref();
  return { now: () => seconds, stop: () => clearInterval(timer) };
}
