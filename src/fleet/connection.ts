/**
 * The fleet's one connection to NATS. It never blocks a start: an engine that cannot be reached is
 * retried for as long as the server runs (the first connection by our own timer, which `close()` can
 * stop; later ones by the client's reconnect, without limit), and every change of state is told to
 * the listeners, which decide whether this instance answers with the fleet or alone.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions as TlsConnectionOptions, type PeerCertificate } from 'node:tls';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions, type TlsOptions } from '@nats-io/transport-node';
import type { Logger } from '../telemetry/index.js';
import type { FleetOptions } from './fleet-options.js';

/** `connecting`: never connected yet; `disconnected`: lost, the client is reconnecting. */
export type FleetConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';
export const FLEET_CONNECTION_STATES: readonly FleetConnectionState[] = ['connecting', 'connected', 'disconnected', 'closed'];

export interface FleetConnectionTimings {
  /** Between attempts at the first connection, and the client's wait between reconnects. */
  readonly retryMs: number;
  /** How long one attempt may take (TCP, TLS and the NATS handshake). */
  readonly attemptTimeoutMs: number;
  /** Client pings: a silent server counts as lost after about pingIntervalMs × 3. */
  readonly pingIntervalMs: number;
}

const DEFAULT_TIMINGS: FleetConnectionTimings = { retryMs: 1000, attemptTimeoutMs: 5000, pingIntervalMs: 5000 };

export type FleetStateListener = (state: FleetConnectionState, connection: NatsConnection | null) => void;

export class FleetConnection {
  #state: FleetConnectionState = 'connecting';
  #connection: NatsConnection | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #attempt: Promise<void> | null = null;
  readonly #listeners = new Set<FleetStateListener>();
  /** Told when an attempt at the first connection fails. */
  readonly #failedAttemptListeners = new Set<() => void>();
  readonly #clientOptions: NodeConnectionOptions;
  #lastFailure: string | null = null;
  #everConnected = false;

  private constructor(
    readonly options: FleetOptions,
    private readonly logger: Logger,
    private readonly timings: FleetConnectionTimings,
  ) {
    this.#clientOptions = clientOptionsOf(options, timings);
  }

  /**
   * Starts connecting in the background and returns at once. Throws only for what retrying cannot
   * fix: a credentials or CA file that cannot be read.
   */
  static open(options: FleetOptions, logger: Logger, timings: Partial<FleetConnectionTimings> = {}): FleetConnection {
    const fleet = new FleetConnection(options, logger, { ...DEFAULT_TIMINGS, ...timings });
    fleet.#attempt = fleet.#tryFirstConnection();
    return fleet;
  }

  get state(): FleetConnectionState {
    return this.#state;
  }

  /** The live connection while connected (null otherwise). */
  get connection(): NatsConnection | null {
    return this.#state === 'connected' ? this.#connection : null;
  }

  /** The last reason a connection failed or was lost (for /status), null while all is well. */
  get lastFailure(): string | null {
    return this.#lastFailure;
  }

  /** Calls `listener` on every change of state; returns its removal. */
  onState(listener: FleetStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once connected (at once if already), or with null when closed first. */
  whenConnected(): Promise<NatsConnection | null> {
    if (this.#state === 'connected') return Promise.resolve(this.#connection);
    if (this.#state === 'closed') return Promise.resolve(null);
    return new Promise((resolve) => {
      const remove = this.onState((state, connection) => {
        if (state !== 'connected' && state !== 'closed') return;
        remove();
        resolve(state === 'connected' ? connection : null);
      });
    });
  }

  /**
   * Resolves with the connection once connected, or with null as soon as there is clearly none for
   * now: closed, lost, or an attempt at the first connection failed (refused, nothing listening, a
   * certificate or password refused). A start waits on this, bounded by its own timer, so that an
   * engine that is slow to answer is waited for a little and one that is not there delays nothing.
   */
  whenTried(): Promise<NatsConnection | null> {
    if (this.#state === 'connected') return Promise.resolve(this.#connection);
    if (this.#state !== 'connecting' || this.#lastFailure !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const settle = (connection: NatsConnection | null): void => {
        removeState();
        this.#failedAttemptListeners.delete(failed);
        resolve(connection);
      };
      const failed = (): void => settle(null);
      const removeState = this.onState((state, connection) => settle(state === 'connected' ? connection : null));
      this.#failedAttemptListeners.add(failed);
    });
  }

  /** Stops retrying, drains the connection (publishes in flight are sent) and closes it. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const connection = this.#connection;
    this.#setState('closed', null);
    await this.#attempt?.catch(() => undefined);
    const late = this.#connection;
    for (const open of new Set([connection, late])) {
      if (open === null || open.isClosed()) continue;
      await open.drain().catch(() => open.close().catch(() => undefined));
    }
  }

  async #tryFirstConnection(): Promise<void> {
    let connection: NatsConnection;
    try {
      connection = await connect(this.#clientOptions);
    } catch (error) {
      if (this.#state === 'closed') return;
      const reason = describeFailure(error);
      if (reason !== this.#lastFailure) {
        this.logger.warn({ reason, servers: this.options.displayUrls.join(',') }, 'fleet: cannot reach the NATS engine yet; answering alone and retrying');
      }
      this.#lastFailure = reason;
      for (const listener of [...this.#failedAttemptListeners]) listener();
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        this.#attempt = this.#tryFirstConnection();
      }, this.timings.retryMs);
      return;
    }
    this.#connection = connection;
    if (this.#state === 'closed') return; // close() drains it
    this.#everConnected = true;
    this.#lastFailure = null;
    void this.#followStatus(connection);
    void connection.closed().then((error) => {
      if (this.#state === 'closed') return;
      // The client gave up (it only does for an authorisation refused twice): start over.
      this.#lastFailure = error ? describeFailure(error) : 'connection closed';
      this.logger.error({ reason: this.#lastFailure }, 'fleet: the NATS client closed the connection; connecting again');
      this.#setState('disconnected', null);
      this.#connection = null;
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        this.#attempt = this.#tryFirstConnection();
      }, this.timings.retryMs);
    });
    this.logger.info({ server: connection.getServer(), instance: this.options.instance }, 'fleet: connected to the NATS engine');
    this.#setState('connected', connection);
  }

  async #followStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (this.#state === 'closed' || this.#connection !== connection) return;
      switch (status.type) {
        case 'disconnect':
          if (this.#state === 'connected') {
            this.#lastFailure = `lost ${status.server}`;
            this.logger.warn({ server: status.server }, 'fleet: lost the NATS engine; reconnecting');
            this.#setState('disconnected', null);
          }
          break;
        case 'reconnect':
          this.#lastFailure = null;
          this.logger.info({ server: status.server }, 'fleet: reconnected to the NATS engine');
          this.#setState('connected', connection);
          break;
        case 'error':
          this.#lastFailure = describeFailure(status.error);
          this.logger.warn({ reason: this.#lastFailure }, 'fleet: the NATS engine reported an error');
          break;
        default:
          break;
      }
    }
  }

  #setState(state: FleetConnectionState, connection: NatsConnection | null): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) {
      try {
        listener(state, connection);
      } catch (error) {
        this.logger.error({ reason: describeFailure(error) }, 'fleet: a connection state listener threw');
      }
    }
  }

  /** True once a connection has been made (the engine was seen at least once). */
  get everConnected(): boolean {
    return this.#everConnected;
  }
}

/** The NATS client's options for these fleet options (servers, auth, TLS, timings). */
export function clientOptionsOf(options: FleetOptions, timings: FleetConnectionTimings = DEFAULT_TIMINGS): NodeConnectionOptions {
  const client: NodeConnectionOptions = {
    servers: [...options.servers],
    name: `meridian/${options.instance}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: timings.retryMs,
    reconnectJitter: Math.round(timings.retryMs / 10),
    reconnectJitterTLS: Math.round(timings.retryMs / 10),
    timeout: timings.attemptTimeoutMs,
    pingInterval: timings.pingIntervalMs,
    maxPingOut: 2,
    ignoreAuthErrorAbort: true,
  };
  if (options.user !== null) {
    client.user = options.user;
    client.pass = options.pass ?? '';
  }
  if (options.token !== null) client.token = options.token;
  if (options.credsFile !== null) client.authenticator = credsAuthenticator(readFileOrExplain(options.credsFile, '--fleet-creds'));
  if (options.tls) {
    // The client hands these to Node's tls.connect as they are (its transport extends its own with them).
    const tls: TlsOptions & Pick<TlsConnectionOptions, 'checkServerIdentity'> = options.caFile === null ? {} : { ca: readFileOrExplain(options.caFile, '--fleet-ca').toString('utf8') };
    const addresses = options.servers.map((server) => server.slice(0, server.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1')).filter((host) => isIP(host) !== 0);
    if (addresses.length > 0) tls.checkServerIdentity = identityAmong(addresses);
    client.tls = tls;
  }
  return client;
}

/**
 * The NATS client gives TLS no server name for a server listed by IP address (SNI cannot carry
 * one), so Node would check the certificate against "localhost" and refuse a good one. Checked
 * instead against the addresses the servers were listed by: the certificate must name one of them.
 */
function identityAmong(addresses: readonly string[]): (hostname: string, certificate: PeerCertificate) => Error | undefined {
  return (hostname, certificate) => {
    if (hostname !== 'localhost') return checkServerIdentity(hostname, certificate);
    let refusal: Error | undefined;
    for (const address of addresses) {
      const error = checkServerIdentity(address, certificate);
      if (error === undefined) return undefined;
      refusal ??= error;
    }
    return refusal;
  };
}

function readFileOrExplain(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? describeFailure(error)}`);
  }
}

/** OpenSSL's and Node's codes for a server certificate that does not verify. */
const CERTIFICATE_REFUSED = /^(UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|CERT_|ERR_TLS_CERT_)/;

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    // The NATS client wraps the TLS error: its code is on the cause.
    const cause = (error as { cause?: unknown }).cause;
    const code = (error as { code?: unknown }).code ?? (cause instanceof Error ? (cause as { code?: unknown }).code : undefined);
    const text = typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
    if (typeof code === 'string' && CERTIFICATE_REFUSED.test(code)) {
      return `TLS: the engine's certificate was refused: ${text}; is it signed by the CA given with --fleet-ca, and does it name the host or address in --fleet?`;
    }
    return text;
  }
  return String(error);
}
