#!/usr/bin/env -S node --max-semi-space-size=8 --expose-gc
/**
 * cli/: argv → command. `serve`, `check`, `explain`, `override`, `fleet status`, `push`, `zones history|rollback`,
 * `keygen` and `ds`; no logic of its own beyond turning flags into options and results into exit codes and text.
 */

const USAGE = `usage:
  meridian serve --zones DIR --listen HOST:PORT [--listen HOST:PORT ...] [--geoip FILE ...]
                 [--nsid TEXT] [--log-level LEVEL] [--log-format json|pretty]
  meridian serve ... [--admin HOST:PORT] [--state-file FILE] [--query-log FILE|-] [--query-log-sample N]
                 [--no-health] [--no-geo] [--no-watch] [--workers N] [--io dgram|batched] [--keys DIR]
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

// Each command is loaded only when run: `check` or `override` need not load the server, NATS and DNSSEC code.
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve-command.js')).runServe(rest);
    case 'check':
      return (await import('./check-command.js')).runCheck(rest);
    case 'explain':
      return (await import('./explain-command.js')).runExplain(rest);
    case 'override':
      return (await import('./override-command.js')).runOverride(rest);
    case 'fleet':
      return (await import('./fleet-command.js')).runFleet(rest);
    case 'keygen':
      return (await import('./dnssec-commands.js')).runKeygen(rest);
    case 'ds':
      return (await import('./dnssec-commands.js')).runDs(rest);
    case 'push':
      return (await import('./zones-command.js')).runPush(rest);
    case 'zones':
      return (await import('./zones-command.js')).runZones(rest);
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
