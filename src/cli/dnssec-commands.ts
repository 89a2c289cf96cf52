/** `meridian keygen` and `meridian ds`: a zone's signing key as BIND's key files, and its DS for the parent. */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { algorithmNamed, isKeySigningKey, isPublished, newCombinedKeyIn, presentDs, readKeyFolder, SIGNING_ALGORITHMS, writeKeyFiles } from '../dnssec/index.js';
import { processOutput, type CommandOutput } from './command-output.js';

function zoneArgument(positionals: string[], usage: string, output: CommandOutput): string | null {
  if (positionals.length !== 1 || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(positionals[0]!)) {
    output.err(usage);
    return null;
  }
  return positionals[0]!.toLowerCase().replace(/\.$/, '');
}

const KEYGEN_USAGE = `usage: meridian keygen ZONE --keys DIR [--algorithm ${SIGNING_ALGORITHMS.map((a) => a.mnemonic.toLowerCase()).join('|')}]\n`;

export async function runKeygen(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { keys: { type: 'string' }, algorithm: { type: 'string', default: 'ecdsap256sha256' } },
  });
  const zone = zoneArgument(positionals, KEYGEN_USAGE, output);
  if (zone === null || values.keys === undefined) {
    if (zone !== null) output.err(KEYGEN_USAGE);
    return 2;
  }
  const algorithm = algorithmNamed(values.algorithm!);
  if (algorithm === undefined) {
    output.err(`meridian: --algorithm must be one of ${SIGNING_ALGORITHMS.map((a) => a.mnemonic.toLowerCase()).join(', ')}\n`);
    return 2;
  }
  await mkdir(values.keys, { recursive: true });
  const key = await newCombinedKeyIn(values.keys, zone, algorithm, Math.floor(Date.now() / 1000));
  const path = await writeKeyFiles(values.keys, key);
  output.err(`wrote ${path}.key and ${path}.private (combined signing key, tag ${key.tag}); give the parent zone this DS record:\n`);
  output.out(`${presentDs(zone, key.rdata)}\n`);
  return 0;
}

const DS_USAGE = 'usage: meridian ds ZONE --keys DIR\n';

export async function runDs(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { keys: { type: 'string' } } });
  const zone = zoneArgument(positionals, DS_USAGE, output);
  if (zone === null || values.keys === undefined) {
    if (zone !== null) output.err(DS_USAGE);
    return 2;
  }
  const { keys, problems } = await readKeyFolder(values.keys);
  for (const problem of problems) output.err(`${problem.file}: ${problem.message}\n`);
  const now = Math.floor(Date.now() / 1000);
  const ksks = keys.filter((key) => key.zone === zone && isKeySigningKey(key) && isPublished(key, now));
  if (ksks.length === 0) {
    output.err(`meridian: no published key-signing key for ${zone} in ${values.keys} (make one with: meridian keygen ${zone} --keys ${values.keys})\n`);
    return 1;
  }
  for (const key of ksks) output.out(`${presentDs(zone, key.rdata)}\n`);
  return problems.length > 0 ? 1 : 0;
}
