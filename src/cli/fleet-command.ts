/** `meridian fleet status --fleet URL [--json]`: the fleet as the engine holds it (no running server needed). */
import { parseArgs } from 'node:util';
import { formatFleetStatus, parseFleetOptions, readFleetStatus } from '../fleet/index.js';
import { processOutput, type CommandOutput } from './command-output.js';

const USAGE = 'usage: meridian fleet status --fleet nats://HOST:PORT[,...] [--json]\n';

export async function runFleet(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { fleet: { type: 'string' }, json: { type: 'boolean', default: false }, 'fleet-creds': { type: 'string' }, 'fleet-ca': { type: 'string' } },
  });
  if (positionals.join(' ') !== 'status' || values.fleet === undefined) {
    output.err(USAGE);
    return 2;
  }
  let options;
  try {
    options = parseFleetOptions({ fleet: values.fleet, creds: values['fleet-creds'], ca: values['fleet-ca'], instance: 'fleet-status' })!;
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  let report;
  try {
    report = await readFleetStatus(options);
  } catch (error) {
    output.err(`meridian: cannot read the fleet from ${options.displayUrls.join(',')}: ${(error as Error).message}\n`);
    return 1;
  }
  output.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatFleetStatus(report));
  return 0;
}
