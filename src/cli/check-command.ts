/** `meridian check PATH [--keys DIR]`: validates zone files exactly as the server loads them, and the DNSSEC key files. */
import { parseArgs } from 'node:util';
import { isSigning, readKeyFolder } from '../dnssec/index.js';
import { isKnownCountryCode } from '../geo/index.js';
import { formatDiagnostic, readZonePath, type FileLoad, type ZoneSource } from '../zones/index.js';
import { processOutput, type CommandOutput } from './command-output.js';

/**
 * Reads and validates every zone file under `path` as the server would, printing what `check`
 * prints (diagnostics as file:line:col, warnings, "zone NAME ok"); the sources when every file is
 * good, else null. `meridian push` validates through this too, so the two never disagree.
 */
export async function checkZonePath(path: string, output: CommandOutput = processOutput): Promise<{ file: string; source: ZoneSource }[] | null> {
  let loads: FileLoad[];
  try {
    loads = await readZonePath(path, { isKnownCountry: isKnownCountryCode });
  } catch (error) {
    output.err(`meridian: ${path}: ${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
  let problems = 0;
  for (const load of loads) {
    // Warnings never fail the check: the file loads as it is.
    const found = load.ok ? load.source.warnings : load.diagnostics;
    for (const diagnostic of found) output.out(`${formatDiagnostic(diagnostic)}\n`);
    if (!load.ok) problems += load.diagnostics.length;
  }
  if (loads.length === 0) {
    output.err(`meridian: no zone files (*.yaml, *.yml) in ${path}\n`);
    return null;
  }
  if (problems > 0) return null;
  const good = loads.flatMap((load) => (load.ok ? [{ file: load.file, source: load.source }] : []));
  for (const { file, source } of good) output.out(`${file}: zone ${source.origin} ok\n`);
  return good;
}

export async function runCheck(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { keys: { type: 'string' } } });
  if (positionals.length !== 1) {
    output.err('usage: meridian check PATH [--keys DIR] (a zone file or a folder of zone files; the DNSSEC key folder)\n');
    return 2;
  }
  const path = positionals[0]!;
  const good = await checkZonePath(path, output);
  if (good === null) return 1;
  if (values.keys !== undefined && (await checkKeys(values.keys, good.map(({ source }) => source.origin), output)) > 0) return 1;
  // Not a problem of the file, but a fleet of nameservers can disagree over it: said once, on stderr.
  const derived = good.flatMap(({ file, source }) => (source.soa.serial === undefined ? [file] : []));
  if (derived.length > 0) {
    output.err(
      `meridian: note: no soa serial in ${derived.join(', ')}: each server derives one from the file's modification time, ` +
        'so nameservers that got the file at different times can serve different serials; write "serial:" under "soa:" to serve one serial everywhere\n',
    );
  }
  return 0;
}

/**
 * The key folder as `serve --keys` reads it: each file it cannot use is a problem (FILE: message);
 * a zone of PATH without an active key, and keys for zones PATH does not hold, are said on stderr.
 */
async function checkKeys(dir: string, origins: readonly string[], output: CommandOutput): Promise<number> {
  let folder;
  try {
    folder = await readKeyFolder(dir);
  } catch (error) {
    output.out(`${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  for (const problem of folder.problems) output.out(`${problem.file}: ${problem.message}\n`);
  const now = Math.floor(Date.now() / 1000);
  for (const origin of origins) {
    const signing = folder.keys.filter((key) => key.zone === origin && isSigning(key, now));
    if (signing.length === 0) output.err(`meridian: note: no active key for ${origin} in ${dir}: it is served unsigned\n`);
  }
  for (const zone of new Set(folder.keys.map((key) => key.zone))) {
    if (!origins.includes(zone)) output.err(`meridian: note: ${dir} holds keys for ${zone}, which is not among the zones checked\n`);
  }
  return folder.problems.length;
}
