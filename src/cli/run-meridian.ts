/**
 * argv → a command's exit code, its text through a CommandOutput: the whole CLI as a function, which
 * main.ts runs for the process and the tests run in theirs (flag and file validation without a node start).
 */
import { processOutput, type CommandOutput } from './command-output.js';

export const USAGE = `usage:
  meridian serve --zones DIR --listen HOST:PORT [--listen HOST:PORT ...] [--geoip FILE ...]
                 [--nsid TEXT] [--log-level LEVEL] [--log-format json|pretty]
  meridian serve ... [--admin HOST:PORT] [--state-file FILE] [--query-log FILE|-] [--query-log-sample N]
                 [--no-health] [--no-geo] [--no-watch] [--workers N] [--io auto|batched|dgram] [--keys DIR]
  meridian serve ... [--rrl RATE [--rrl-ipv4-prefix BITS] [--rrl-ipv6-prefix BITS] [--rrl-window SECONDS] [--rrl-slip N] [--rrl-exempt CIDR ...]]
  meridian serve ... [--cookie-secret-file FILE | --no-cookies] [--tcp-message-timeout DURATION] [--tcp-max-per-client N]
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

/** The exit code that says the process stays up (a server). */
export const KEEP_RUNNING = -1;

/**
 * Runs `meridian ARGV`: 0 on success, 1 on failure, 2 on a usage error (an unknown or malformed flag
 * included), KEEP_RUNNING for a server. An error a command throws is written to `output` as `meridian: MESSAGE`.
 */
export async function runMeridian(argv: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  try {
    return await runCommand(argv, output);
  } catch (error) {
    output.err(`meridian: ${error instanceof Error ? error.message : String(error)}\n`);
    // An unknown or malformed flag (node:util parseArgs) is a usage error, like the others.
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') ? 2 : 1;
  }
}

// Each command is loaded only when run: `check` or `override` need not load the server, NATS and DNSSEC code.
async function runCommand(argv: readonly string[], output: CommandOutput): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve-command.js')).runServe(rest, output);
    case 'check':
      return (await import('./check-command.js')).runCheck(rest, output);
    case 'explain':
      return (await import('./explain-command.js')).runExplain(rest, output);
    case 'override':
      return (await import('./override-command.js')).runOverride(rest, output);
    case 'fleet':
      return (await import('./fleet-command.js')).runFleet(rest, output);
    case 'keygen':
      return (await import('./dnssec-commands.js')).runKeygen(rest, output);
    case 'ds':
      return (await import('./dnssec-commands.js')).runDs(rest, output);
    case 'push':
      return (await import('./zones-command.js')).runPush(rest, output);
    case 'zones':
      return (await import('./zones-command.js')).runZones(rest, output);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      output.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      output.err(`meridian: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
