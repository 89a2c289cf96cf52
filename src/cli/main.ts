#!/usr/bin/env -S node --max-semi-space-size=8 --expose-gc
/**
 * cli/: argv → command. `serve`, `check`, `explain`, `override` and `fleet status`; no logic of its own beyond turning
 * flags into options and results into exit codes and text.
 */
import { runCheck } from './check-command.js';
import { runDs, runKeygen } from './dnssec-commands.js';
import { runExplain } from './explain-command.js';
import { runFleet } from './fleet-command.js';
import { runOverride } from './override-command.js';
import { runServe } from './serve-command.js';
import { runPush, runZones } from './zones-command.js';

const USAGE = `usage:
  meridian serve --zones DIR --listen HOST:PORT [--listen HOST:PORT ...] [--geoip FILE ...]
                 [--nsid TEXT] [--log-level LEVEL] [--log-format json|pretty]
  meridian serve ... [--admin HOST:PORT] [--state-file FILE] [--query-log FILE|-] [--query-log-sample N]
                 [--no-health] [--no-geo] [--keys DIR]
  meridian serve ... [--fleet nats://HOST:PORT[,...] [--fleet-creds FILE] [--fleet-ca FILE] [--instance NAME]] [--probe-source ADDRESS ...]
  meridian serve ... --fleet URL --zones-from-fleet --state-dir DIR   (serve the fleet's zone revisions)
  meridian check PATH [--keys DIR]   (a zone file or a folder of them; DNSSEC key files)
  meridian push DIR --fleet URL [--message TEXT]                (check, then publish every zone file as one revision)
  meridian zones history --fleet URL [--json]
  meridian zones rollback REV --fleet URL [--message TEXT]      (publish revision REV again, as the newest)
  meridian fleet status --fleet nats://HOST:PORT[,...] [--json]   (instances, each member's views, the fleet's verdict)
  meridian override ADDRESS up|down|drain|clear [--force] [--admin HOST:PORT]   (a running server's member)
  meridian explain NAME [TYPE] --from IP|SUBNET [--admin HOST:PORT | --offline [--zones DIR] [--geoip FILE ...] [--no-health]] [--json]
  meridian keygen ZONE --keys DIR [--algorithm ecdsap256sha256|ed25519]   (a signing key; prints the DS)
  meridian ds ZONE --keys DIR                                            (the DS records of the zone's keys)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'check':
      return runCheck(rest);
    case 'explain':
      return runExplain(rest);
    case 'override':
      return runOverride(rest);
    case 'fleet':
      return runFleet(rest);
    case 'keygen':
      return runKeygen(rest);
    case 'ds':
      return runDs(rest);
    case 'push':
      return runPush(rest);
    case 'zones':
      return runZones(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`meridian: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`meridian: ${error instanceof Error ? error.message : String(error)}\n`);
    // An unknown or malformed flag (node:util parseArgs) is a usage error, like the others.
    const code = (error as { code?: unknown } | null)?.code;
    process.exitCode = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') ? 2 : 1;
  },
);
