/**
 * fleet: several Meridian instances answering as one, through NATS JetStream.
 *
 * Owns: the `--fleet`/`--fleet-creds`/`--fleet-ca`/`--instance` options (fleet-options.ts); the fleet
 * as a server runs it, the connection and this instance as a member behind one close (fleet.ts); the one
 * connection to the NATS engine, retried for as long as the server runs, with its state told to
 * listeners (connection.ts); the key-value buckets, keys and values (fleet-store.ts); this instance
 * as a member: its name claimed, its views published, the others' watched, verdicts by quorum
 * (quorum.ts) handed to health, overrides stored fleet-wide (fleet-member.ts); `meridian fleet
 * status` (fleet-status.ts).
 *
 * Must never: be needed without `--fleet` (a lone instance runs exactly as before, with no NATS);
 * block a start or a query on the engine (an unreachable engine means deciding alone, never waiting);
 * run anything on the query path (what the fleet decides reaches it as a swapped health view).
 */
export { FLEET_CONNECTION_STATES, FleetConnection, type FleetConnectionState, type FleetConnectionTimings, type FleetStateListener } from './connection.js';
export { parseFleetOptions, type FleetFlags, type FleetOptions } from './fleet-options.js';
export { Fleet } from './fleet.js';
export { FleetMember, InstanceNameTaken, type FleetCounters, type FleetMemberOptions, type FleetReport, type ViewReport } from './fleet-member.js';
export { decide, freshFor, isFresh, upNeeded, type InstanceView, type Verdict } from './quorum.js';
export { meridianVersion } from './version.js';
export { formatFleetStatus, readFleetStatus, summarise, type FleetStatusReport } from './fleet-status.js';
