/**
 * What `startMeridian` is given and what it hands back: the server's contract with the CLI, the
 * cluster and the tests. The wiring that turns one into the other is meridian.ts.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import type { StatusReport, ZoneFileState } from '../admin/index.js';
import type { ServingState } from '../answer/index.js';
import type { CookieCounters, CookieSecrets } from '../cookies/index.js';
import type { ListenAddress } from '../config/index.js';
import type { FleetConnection, FleetMember, FleetOptions } from '../fleet/index.js';
import type { DnssecKeeper, DnssecOptions } from '../dnssec/index.js';
import type { GeoLocatorHandle } from '../geo/index.js';
import type { HealthMonitor, HealthView } from '../health/index.js';
import type { RateLimitSettings, ResponseRateLimiter } from '../rate-limit/index.js';
import type { RandomSource } from '../routing/index.js';
import type { CounterSnapshot, Logger, PeerCounters } from '../telemetry/index.js';
import type { BatchedUdpStats, ListenerCounters, TcpLimits } from '../wire/index.js';
import type { ZoneRevisionStatus } from '../zone-revisions/index.js';
import type { UdpIo, UdpIoChoice } from './dns-sockets.js';
import type { QueryCounters } from './handle-packet.js';
import type { ReloadReport } from './zone-loader.js';

export interface ServerOptions {
  zonesPath: string;
  listen: readonly ListenAddress[];
  logger: Logger;
  /** MaxMind DB files; empty uses the embedded country database. */
  geoipFiles?: readonly string[];
  /** Skip geo entirely (no database is opened): every geo name answers from its default. */
  geoDisabled?: boolean;
  nsid?: string | null;
  /** DNS cookie secrets (--cookie-secret-file); absent: a random secret; null: cookies off (--no-cookies). */
  cookies?: CookieSecrets | null;
  /** Turn health checking off: every member counts as up (overrides still apply). */
  healthDisabled?: boolean;
  /** JSON file keeping member overrides across restarts; none when absent. */
  stateFile?: string;
  tcp?: Partial<TcpLimits>;
  random?: RandomSource;
  /** Admin HTTP address (metrics, status, overrides); off when absent. */
  admin?: ListenAddress;
  /** Bearer token for the admin endpoint; required when it is not on loopback. */
  adminToken?: string | null;
  /** One JSON line per sampled query, to a file or "-" (stdout). */
  queryLog?: { destination: string; sampleEvery: number };
  /** Response rate limiting of UDP answers (`--rrl`); off when absent. */
  rateLimit?: RateLimitSettings;
  /** Watch the zones folder and reload on change (default true). */
  watchZones?: boolean;
  /**
   * Keep a zone parser thread booted between reloads (default false), so a reload does not wait
   * ~150-200 ms for a thread to start. An idle thread costs ~14 MB of RSS, a tenth of the memory
   * budget, so by default the thread is booted when the watcher first sees a change, and boots
   * during the debounce instead.
   */
  keepParserWarm?: boolean;
  /** Quiet time after a file change before reloading, ms (default 100). */
  reloadDebounceMs?: number;
  /**
   * Cluster worker mode: health comes from the primary through this view (no probes run here),
   * sockets are shared with the other workers, and zone/listen announcements are left to the
   * primary so the log reads as one server.
   */
  worker?: { health: HealthView };
  /** Cluster primary: ready only once every worker listens. */
  readyWhen?: () => boolean;
  /**
   * UDP through the native batched module (recvmmsg/sendmmsg) or dgram: `auto` (default) takes
   * batched where the module is built, `batched` warns when it falls back to dgram, `dgram` forces
   * it. Batched sockets cannot be handed to other processes: in a cluster each process binds its
   * own on the same address (`udpPortShared`, SO_REUSEPORT).
   */
  io?: UdpIoChoice;
  /** Cluster primary with batched I/O: its UDP sockets let the workers bind the same address. */
  udpPortShared?: boolean;
  /** Cluster primary: counters of the workers, summed into /metrics at scrape time. */
  peers?: PeerCounters;
  /** Join the fleet through this NATS engine (the primary alone connects); none: a lone instance. */
  fleet?: FleetOptions | null;
  /**
   * Serve the fleet's zone revisions (--zones-from-fleet) instead of `zonesPath`: the primary
   * follows the engine; a cluster worker loads the revision folder its primary names.
   */
  zonesFromFleet?: boolean;
  /** Where this instance keeps what must outlive it (--state-dir): the last zone revision served. */
  stateDir?: string;
  /** Cluster primary: a fleet revision's folder was swapped in (the workers load it too). */
  onZonesSwitched?: (folder: string) => void;
  /** Local addresses health probes are bound to (--probe-source), one per family. */
  probeSources?: readonly string[];
  /** DNSSEC key folder (--keys): every zone with an active key in it is signed. */
  keysDir?: string;
  /** Signing settings besides the folder (tests: a clock, short lifetimes). */
  dnssec?: Omit<DnssecOptions, 'keysDir' | 'logger'>;
}

export interface RunningMeridian {
  /** The addresses actually bound (port 0 resolved). */
  readonly addresses: readonly ListenAddress[];
  /**
   * The sockets answering on them, in `addresses` order (a cluster primary hands them to its
   * workers), and the UDP I/O in use (batched: `udp` is empty, each process binds its own).
   */
  readonly sockets: { readonly udp: readonly UdpSocket[]; readonly tcp: readonly TcpServer[]; readonly io: UdpIo };
  /**
   * Cluster worker: answer on a socket the primary bound and handed over, from now on. Called in
   * the very turn the socket arrives (it reads from then on, and a datagram read with no handler
   * would be lost), so a worker asks for its sockets only once it is ready to answer. With batched
   * I/O (`udpPort`), binds its own UDP socket on the primary's address (SO_REUSEPORT); throws if it cannot.
   */
  adopt(socket: { udp: UdpSocket; address: ListenAddress } | { tcp: TcpServer } | { udpPort: ListenAddress }): void;
  /** The response rate limiter, when `rateLimit` is on. */
  readonly rateLimiter: ResponseRateLimiter | null;
  readonly counters: { query: QueryCounters; listener: ListenerCounters; cookies: CookieCounters | null };
  /** Member health: probes, state and overrides. */
  readonly health: HealthMonitor;
  /** System calls and datagrams of the batched UDP sockets (zeros with dgram). */
  batchedStats(): BatchedUdpStats;
  readonly geo: GeoLocatorHandle | null;
  /** The connection to the fleet's NATS engine (--fleet, not in cluster workers); null alone. */
  readonly fleet: FleetConnection | null;
  /** This instance as a member of the fleet (health views, overrides); null alone, in workers, or with --no-health. */
  readonly fleetMember: FleetMember | null;
  /** The DNSSEC keys and signers, with --keys. */
  readonly dnssec: DnssecKeeper | null;
  /** The admin endpoint's bound address, when enabled. */
  readonly adminAddress: ListenAddress | null;
  /** The JSON served at /status. */
  status(): StatusReport;
  /** Query-path counters as plain data (what a cluster worker reports to the primary). */
  counterSnapshot(): CounterSnapshot;
  serving(): ServingState;
  zoneFiles(): readonly ZoneFileState[];
  reloadZones(): Promise<ReloadReport>;
  /** The folder (or file) the zones are read from: with --zones-from-fleet, the revision's folder. */
  zonesPath(): string;
  /** Cluster worker: serve the zones of the fleet revision folder the primary swapped in. */
  switchZones(folder: string): Promise<ReloadReport>;
  /** With --zones-from-fleet (primary): the revision served, the newest seen, the last refused. */
  zoneRevision(): ZoneRevisionStatus | null;
  close(): Promise<void>;
}
