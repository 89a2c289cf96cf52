/**
 * fleet: several Meridian instances answering as one, through NATS JetStream (issue 15).
 *
 * Owns: the `--fleet`/`--fleet-creds`/`--fleet-ca`/`--instance` options (fleet-options.ts) and the one
 * connection to the NATS engine, retried for as long as the server runs, with its state told to
 * listeners (connection.ts).
 *
 * Must never: be needed without `--fleet` (a lone instance runs exactly as before, with no NATS);
 * block a start or a query on the engine (an unreachable engine means deciding alone, never waiting);
 * run anything on the query path (what the fleet decides reaches it as a swapped health view).
 */
export { FLEET_CONNECTION_STATES, FleetConnection, type FleetConnectionState, type FleetConnectionTimings, type FleetStateListener } from './connection.js';
export { parseFleetOptions, type FleetFlags, type FleetOptions } from './fleet-options.js';
