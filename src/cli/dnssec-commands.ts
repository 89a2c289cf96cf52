/** `meridian keygen` and `meridian ds`: a zone's signing key as BIND's key files, and its DS for the parent. */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { algorithmNamed, isKeySigningKey, isPublished, newCombinedKey, presentDs, readKeyFolder, SIGNING_ALGORITHMS, writeKeyFiles } from '../dnssec/index.js';

function zoneArgument(positionals: string[], usage: string): string | null {
  if (positionals.length !== 1 || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(positionals[0]!)) {
    process.stderr.write(usage);
    return null;
  }
  return positionals[0]!.toLowerCase().replace(/\.$/, '');
}

const KEYGEN_USAGE = `usage: meridian keygen ZONE --keys DIR [--algorithm ${SIGNING_ALGORITHMS.map((a) => a.mnemonic.toLowerCase()).join('|')}]\n`;

export async function runKeygen(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { keys: { type: 'string' }, algorithm: { type: 'string', default: 'ecdsap256sha256' } },
  });
  const zone = zoneArgument(positionals, KEYGEN_USAGE);
  if (zone === null || values.keys === undefined) {
    if (zone !== null) process.stderr.write(KEYGEN_USAGE);
    return 2;
  }
  const algorithm = algorithmNamed(values.algorithm!);
  if (algorithm === undefined) {
    process.stderr.write(`meridian: --algorithm must be one of ${SIGNING_ALGORITHMS.map((a) => a.mnemonic.toLowerCase()).join(', ')}\n`);
    return 2;
  }
  await mkdir(values.keys, { recursive: true });
  const key = newCombinedKey(zone, algorithm, Math.floor(Date.now() / 1000));
  const path = await writeKeyFiles(values.keys, key);
  process.stderr.write(`wrote ${path}.key and ${path}.private (combined signing key, tag ${key.tag}); give the parent zone this DS record:\n`);
  process.stdout.write(`${presentDs(zone, key.rdata)}\n`);
  return 0;
}

const DS_USAGE = 'usage: meridian ds ZONE --keys DIR\n';

export async function runDs(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { keys: { type: 'string' } } });
  const zone = zoneArgument(positionals, DS_USAGE);
  if (zone === null || values.keys === undefined) {
    if (zone !== null) process.stderr.write(DS_USAGE);
    return 2;
  }
  const { keys, problems } = await readKeyFolder(values.keys);
  for (const problem of problems) process.stderr.write(`${problem.file}: ${problem.message}\n`);
  const now = Math.floor(Date.now() / 1000);
  const ksks = keys.filter((key) => key.zone === zone && isKeySigningKey(key) && isPublished(key, now));
  if (ksks.length === 0) {
    process.stderr.write(`meridian: no published key-signing key for ${zone} in ${values.keys} (make one with: meridian keygen ${zone} --keys ${values.keys})\n`);
    return 1;
  }
  for (const key of ksks) process.stdout.write(`${presentDs(zone, key.rdata)}\n`);
  return problems.length > 0 ? 1 : 0;
}
