/**
 * BIND's key files, as `dnssec-keygen` and `ldns-keygen` write them: `K<zone>.+<alg>+<tag>.key`
 * (the DNSKEY record, timing as comments) and `.private` (`Private-key-format: v1.3`, the
 * private key, the timing metadata Publish/Activate/Inactive/Delete that BIND reads), mode 0600.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { algorithmOfCode, type SigningAlgorithm } from './algorithms.js';
import { dnskeyRdata, isKeySigningKey, keyTag, TIMING_FIELDS, type DnssecKey, type KeyTiming } from './dnskey.js';

/** A key file that could not be used, and why, in words an operator can act on. */
export interface KeyFileProblem {
  file: string;
  message: string;
}

const KEY_FILE_NAME = /^K(.+)\.\+(\d{3})\+(\d{5})\.(key|private)$/;

export function keyFileBase(zone: string, algorithm: number, tag: number): string {
  return `K${zone}.+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

const TIMING_LABELS: Record<keyof KeyTiming, string> = { created: 'Created', publish: 'Publish', activate: 'Activate', inactive: 'Inactive', delete: 'Delete' };

/** YYYYMMDDHHMMSS (UTC) → seconds since the epoch; undefined when malformed. */
export function parseKeyTime(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

export function formatKeyTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function describeKey(zone: string, flags: number, tag: number): string {
  return `; This is a ${isKeySigningKey({ flags }) ? 'key-signing' : 'zone-signing'} key, keyid ${tag}, for ${zone}.`;
}

/** The two files' text for a key, as BIND writes them. */
export function keyFileTexts(key: Omit<DnssecKey, 'path'>, privateField: Buffer): { key: string; private: string } {
  const timingLines = TIMING_FIELDS.filter((field) => key.timing[field] !== undefined).map((field) => [TIMING_LABELS[field], formatKeyTime(key.timing[field]!)] as const);
  const publicText = [
    describeKey(key.zone, key.flags, key.tag),
    ...timingLines.map(([label, time]) => `; ${label}: ${time} (${new Date(parseKeyTime(time)! * 1000).toUTCString()})`),
    `${key.zone}. IN DNSKEY ${key.flags} 3 ${key.algorithm.code} ${key.publicKey.toString('base64')}`,
  ].join('\n');
  const privateText = [
    'Private-key-format: v1.3',
    `Algorithm: ${key.algorithm.code} (${key.algorithm.mnemonic})`,
    `PrivateKey: ${privateField.toString('base64')}`,
    ...timingLines.map(([label, time]) => `${label}: ${time}`),
  ].join('\n');
  return { key: `${publicText}\n`, private: `${privateText}\n` };
}

/** Writes a new key's two files into `dir` (the private one mode 0600; neither may exist yet). */
export async function writeKeyFiles(dir: string, key: Omit<DnssecKey, 'path'>): Promise<string> {
  const path = join(dir, keyFileBase(key.zone, key.algorithm.code, key.tag));
  const texts = keyFileTexts(key, key.algorithm.privateKeyField(key.privateKey));
  await writeFile(`${path}.private`, texts.private, { mode: 0o600, flag: 'wx' });
  await writeFile(`${path}.key`, texts.key, { mode: 0o644, flag: 'wx' });
  return path;
}

/** A key from its two files' text; throws an Error saying what is wrong. */
export function parseKeyFiles(path: string, keyText: string, privateText: string): DnssecKey {
  const record = keyText
    .split('\n')
    .map((line) => line.replace(/;.*$/, '').trim())
    .find((line) => line !== '');
  if (record === undefined) throw new Error('the .key file holds no DNSKEY record');
  const fields = record.split(/\s+/);
  const at = fields.findIndex((field) => field.toUpperCase() === 'DNSKEY');
  if (at < 1 || fields.length < at + 5) throw new Error(`the .key file's record is not "ZONE. [TTL] IN DNSKEY FLAGS 3 ALGORITHM KEY": ${record}`);
  const zone = fields[0]!.replace(/\.$/, '').toLowerCase();
  const flags = Number(fields[at + 1]);
  const protocol = Number(fields[at + 2]);
  const algorithmCode = Number(fields[at + 3]);
  const publicKey = Buffer.from(fields.slice(at + 4).join(''), 'base64');
  if (flags !== 256 && flags !== 257) throw new Error(`DNSKEY flags ${fields[at + 1]} are neither 256 (ZSK) nor 257 (KSK or CSK)`);
  if (protocol !== 3) throw new Error(`DNSKEY protocol ${fields[at + 2]} is not 3`);
  const algorithm: SigningAlgorithm | undefined = algorithmOfCode(algorithmCode);
  if (algorithm === undefined) throw new Error(`algorithm ${fields[at + 3]} is not one Meridian signs with (13 ECDSAP256SHA256, 15 ED25519)`);

  const values = new Map<string, string>();
  for (const line of privateText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) values.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (!values.get('private-key-format')?.startsWith('v1.')) throw new Error('the .private file is not "Private-key-format: v1.x"');
  const privateAlgorithm = Number(values.get('algorithm')?.split(/\s/)[0]);
  if (privateAlgorithm !== algorithmCode) throw new Error(`the .private file's algorithm ${values.get('algorithm') ?? '(none)'} is not the DNSKEY's ${algorithmCode}`);
  const privateField = values.get('privatekey');
  if (privateField === undefined) throw new Error('the .private file has no PrivateKey');
  const privateKey = algorithm.importPrivate(Buffer.from(privateField, 'base64'), publicKey);
  if (!algorithm.publicKeyField(privateKey).equals(publicKey)) throw new Error("the .private file's key does not belong to the .key file's DNSKEY");

  const timing: KeyTiming = {};
  for (const field of TIMING_FIELDS) {
    const text = values.get(field);
    if (text === undefined) continue;
    const seconds = parseKeyTime(text);
    if (seconds === undefined) throw new Error(`${TIMING_LABELS[field]} "${text}" is not a time YYYYMMDDHHMMSS`);
    timing[field] = seconds;
  }
  const rdata = dnskeyRdata(flags, algorithm.code, publicKey);
  return { zone, flags, algorithm, publicKey, privateKey, rdata, tag: keyTag(rdata), timing, path };
}

export async function readKeyFiles(path: string): Promise<DnssecKey> {
  const [keyText, privateText] = await Promise.all([readFile(`${path}.key`, 'utf8'), readFile(`${path}.private`, 'utf8')]);
  const key = parseKeyFiles(path, keyText, privateText);
  const name = KEY_FILE_NAME.exec(path.slice(path.lastIndexOf('/') + 1) + '.key');
  if (name && Number(name[3]) !== key.tag) throw new Error(`the file name says key tag ${name[3]}, the DNSKEY's tag is ${key.tag}`);
  return key;
}

/** Every key in a folder (`K*.key` with its `.private`), and the files that could not be used. */
export async function readKeyFolder(dir: string): Promise<{ keys: DnssecKey[]; problems: KeyFileProblem[] }> {
  const names = await readdir(dir);
  const bases = new Set<string>();
  for (const name of names) {
    const match = KEY_FILE_NAME.exec(name);
    if (match) bases.add(name.slice(0, name.length - match[4]!.length - 1));
  }
  const keys: DnssecKey[] = [];
  const problems: KeyFileProblem[] = [];
  for (const base of [...bases].sort()) {
    const path = join(dir, base);
    if (!names.includes(`${base}.key`) || !names.includes(`${base}.private`)) {
      problems.push({ file: `${path}.${names.includes(`${base}.key`) ? 'private' : 'key'}`, message: 'missing: a key needs both its .key and .private file' });
      continue;
    }
    try {
      keys.push(await readKeyFiles(path));
    } catch (error) {
      problems.push({ file: `${path}.key`, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { keys, problems };
}

/** A new combined signing key (CSK: DNSKEY flags 257) for `zone`, published and active from `now` (seconds). */
export function newCombinedKey(zone: string, algorithm: SigningAlgorithm, now: number): Omit<DnssecKey, 'path'> {
  const privateKey = algorithm.generate();
  const publicKey = algorithm.publicKeyField(privateKey);
  const flags = 257;
  const rdata = dnskeyRdata(flags, algorithm.code, publicKey);
  const lower = zone.toLowerCase().replace(/\.$/, '');
  return { zone: lower, flags, algorithm, publicKey, privateKey, rdata, tag: keyTag(rdata), timing: { created: now, publish: now, activate: now } };
}

/**
 * A new CSK for `zone` (made by `generate`, newCombinedKey) whose key tag no key file of the zone in
 * `dir` has. About one key in 65,536 repeats a given tag; with the same algorithm it would be written
 * over the same file names, so it is drawn again, as BIND's dnssec-keygen does.
 */
export async function newCombinedKeyIn(
  dir: string,
  zone: string,
  algorithm: SigningAlgorithm,
  now: number,
  generate: typeof newCombinedKey = newCombinedKey,
): Promise<Omit<DnssecKey, 'path'>> {
  const names = await readdir(dir);
  let key = generate(zone, algorithm, now);
  // key.zone is the zone as key files name it: lower case, no final dot.
  const taken = new Set<number>();
  for (const name of names) {
    const match = KEY_FILE_NAME.exec(name);
    if (match && match[1]!.toLowerCase() === key.zone) taken.add(Number(match[3]));
  }
  while (taken.has(key.tag)) key = generate(zone, algorithm, now);
  return key;
}
