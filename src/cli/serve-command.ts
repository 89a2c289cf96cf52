/** `meridian serve`: flags → ServerOptions, signals → reload and shutdown; one process or a cluster. */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDurationMs, parseListenAddress, type ListenAddress } from '../config/index.js';
import { formatCookieSecrets, parseCookieSecrets, randomCookieSecrets, readCookieSecretFile, type CookieSecrets } from '../cookies/index.js';
import { parseFleetOptions, type FleetOptions } from '../fleet/index.js';
import { rateLimitFromFlags, type RateLimitSettings } from '../rate-limit/index.js';
import { UDP_IO_CHOICES, type UdpIoChoice, isClusterWorker, runClusterWorker, startClusterPrimary, startMeridian, type ServerOptions } from '../server/index.js';
import { createLogger, defaultLogFormat, LOG_FORMATS, type LogFormat, type Logger, type LogLevel } from '../telemetry/index.js';
import { processOutput, type CommandOutput } from './command-output.js';
import { KEEP_RUNNING } from './run-meridian.js';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SHUTDOWN_LIMIT_MS = 2000;

/** How a cluster primary hands its random cookie secret to the workers it forks (they inherit its environment). */
const CLUSTER_COOKIE_SECRET = 'MERIDIAN_CLUSTER_COOKIE_SECRET';

interface StartFailure {
  message?: string;
  code?: string;
  address?: string;
  port?: number;
}

/** A start error in words an operator can act on. */
export function describeStartError(error: StartFailure): string {
  const where = error.address !== undefined ? ` ${error.address.includes(':') ? `[${error.address}]` : error.address}:${error.port}` : '';
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen on${where}: EADDRINUSE (another process holds this port)`;
    case 'EACCES':
      return `cannot listen on${where}: EACCES (ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on${where}: EADDRNOTAVAIL (no interface has this address)`;
    default:
      return error.message ?? String(error);
  }
}

export async function runServe(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      zones: { type: 'string' },
      'zones-from-fleet': { type: 'boolean', default: false },
      'state-dir': { type: 'string' },
      listen: { type: 'string', multiple: true },
      geoip: { type: 'string', multiple: true },
      nsid: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string' },
      'no-geo': { type: 'boolean', default: false },
      'no-health': { type: 'boolean', default: false },
      'no-watch': { type: 'boolean', default: false },
      'state-file': { type: 'string' },
      admin: { type: 'string' },
      'query-log': { type: 'string' },
      'query-log-sample': { type: 'string', default: '1' },
      workers: { type: 'string' },
      io: { type: 'string', default: 'auto' },
      fleet: { type: 'string' },
      'fleet-creds': { type: 'string' },
      'fleet-ca': { type: 'string' },
      'no-cookies': { type: 'boolean', default: false },
      'tcp-message-timeout': { type: 'string' },
      'tcp-max-per-client': { type: 'string' },
      'cookie-secret-file': { type: 'string' },
      instance: { type: 'string' },
      rrl: { type: 'string' },
      'rrl-ipv4-prefix': { type: 'string' },
      'rrl-ipv6-prefix': { type: 'string' },
      'rrl-window': { type: 'string' },
      'rrl-slip': { type: 'string' },
      'rrl-exempt': { type: 'string', multiple: true },
      'probe-source': { type: 'string', multiple: true },
      keys: { type: 'string' },
    },
  });
  const level = values['log-level'] as LogLevel;
  if (!LEVELS.includes(level)) {
    output.err(`meridian: --log-level must be one of ${LEVELS.join(', ')}\n`);
    return 2;
  }
  const format = (values['log-format'] ?? defaultLogFormat(process.stdout.isTTY === true)) as LogFormat;
  if (!LOG_FORMATS.includes(format)) {
    output.err(`meridian: --log-format must be one of ${LOG_FORMATS.join(', ')}\n`);
    return 2;
  }
  let listen: ListenAddress[];
  let admin: ListenAddress | undefined;
  let fleet: FleetOptions | null;
  let probeSources: string[];
  try {
    listen = (values.listen?.length ? values.listen : ['127.0.0.1:5300', '[::1]:5300']).map((text) => parseListenAddress(text));
    admin = values.admin === undefined ? undefined : parseListenAddress(values.admin, '--admin');
    fleet = parseFleetOptions({ fleet: values.fleet, creds: values['fleet-creds'], ca: values['fleet-ca'], instance: values.instance });
    probeSources = parseProbeSources(values['probe-source'] ?? []);
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  const zonesFromFleet = values['zones-from-fleet'];
  if (zonesFromFleet && (fleet === null || values['state-dir'] === undefined || values.zones !== undefined)) {
    output.err(
      values.zones !== undefined
        ? 'meridian: --zones and --zones-from-fleet exclude each other (an instance reads files or the fleet revisions)\n'
        : 'meridian: --zones-from-fleet needs --fleet URL and --state-dir DIR (the last revision served is kept there, to start without the engine)\n',
    );
    return 2;
  }
  const sampleEvery = Number(values['query-log-sample']);
  if (!Number.isInteger(sampleEvery) || sampleEvery < 1) {
    output.err('meridian: --query-log-sample must be a whole number ≥ 1 (log 1 query in N)\n');
    return 2;
  }
  const io = values.io as UdpIoChoice;
  if (!UDP_IO_CHOICES.includes(io)) {
    output.err(`meridian: --io must be ${UDP_IO_CHOICES.join(', ')} (auto: batched where native/batched-udp is built, else dgram), not "${values.io}"\n`);
    return 2;
  }
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    output.err('meridian: --workers must be a whole number from 1 to 64\n');
    return 2;
  }

  const messageTimeoutText = values['tcp-message-timeout'];
  const messageTimeoutMs = messageTimeoutText === undefined ? undefined : parseDurationMs(messageTimeoutText);
  if (messageTimeoutText !== undefined && (messageTimeoutMs === undefined || messageTimeoutMs < 1 || messageTimeoutMs > 60_000)) {
    output.err(`meridian: --tcp-message-timeout must be a duration from 1ms to 60s (like 2s or 500ms), not "${messageTimeoutText}"\n`);
    return 2;
  }
  const maxPerClient = values['tcp-max-per-client'] === undefined ? undefined : Number(values['tcp-max-per-client']);
  if (maxPerClient !== undefined && (!Number.isInteger(maxPerClient) || maxPerClient < 1)) {
    output.err('meridian: --tcp-max-per-client must be a whole number ≥ 1\n');
    return 2;
  }

  let rateLimit: RateLimitSettings | undefined;
  try {
    rateLimit = rateLimitFromFlags(values);
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  let cookies: CookieSecrets | null;
  try {
    cookies = await cookieSecrets(values['no-cookies'], values['cookie-secret-file'], workers);
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }

  const logger = createLogger(level, format);
  const options: ServerOptions = {
    zonesPath: values.zones ?? 'zones',
    zonesFromFleet,
    stateDir: values['state-dir'],
    listen,
    logger,
    geoipFiles: values.geoip ?? [],
    geoDisabled: values['no-geo'],
    nsid: values.nsid ?? null,
    cookies,
    tcp: {
      ...(messageTimeoutMs === undefined ? {} : { messageTimeoutMs }),
      ...(maxPerClient === undefined ? {} : { maxConnectionsPerClient: maxPerClient }),
    },
    healthDisabled: values['no-health'],
    keysDir: values.keys,
    stateFile: values['state-file'],
    watchZones: !values['no-watch'],
    admin,
    adminToken: process.env.MERIDIAN_ADMIN_TOKEN || null,
    queryLog: values['query-log'] ? { destination: values['query-log'], sampleEvery } : undefined,
    fleet,
    rateLimit,
    probeSources,
    io,
  };

  if (workers > 1 && isClusterWorker()) {
    await runClusterWorker(options);
    return KEEP_RUNNING;
  }
  return workers > 1 ? serveCluster(options, workers, logger, output) : serveSingle(options, logger, output);
}

/**
 * The cookie secrets: none with --no-cookies, the file's, or a random one per start, which every
 * process of a cluster must share (a resolver's next query may reach another process).
 */
async function cookieSecrets(off: boolean, file: string | undefined, workers: number): Promise<CookieSecrets | null> {
  if (off) {
    if (file !== undefined) throw new Error('--no-cookies and --cookie-secret-file contradict each other');
    return null;
  }
  if (file !== undefined) return readCookieSecretFile(file);
  const inherited = process.env[CLUSTER_COOKIE_SECRET];
  if (inherited !== undefined && isClusterWorker()) return parseCookieSecrets(inherited, "the cluster primary's cookie secret");
  const secrets = randomCookieSecrets();
  if (workers > 1) process.env[CLUSTER_COOKIE_SECRET] = formatCookieSecrets(secrets);
  return secrets;
}

function failStart(logger: Logger, error: unknown, output: CommandOutput): number {
  const message = describeStartError(error as StartFailure);
  logger.fatal({ reason: message }, 'cannot start');
  logger.flush();
  output.err(`meridian: ${message}\n`);
  return 1;
}

/** What the signal handlers act on, once the server has started. */
interface Controls {
  reload(): void;
  close(): Promise<void>;
}

/**
 * Signals: SIGHUP reloads; SIGTERM/SIGINT stop, and the process is gone within 2 s whatever
 * happens. Installed before the server starts, so a signal during start-up also stops cleanly.
 */
function handleSignals(logger: Logger): (controls: Controls) => void {
  let controls: Controls | null = null;
  process.on('SIGHUP', () => {
    if (controls === null) return;
    logger.info('SIGHUP: reloading zones and geo databases');
    controls.reload();
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(0), SHUTDOWN_LIMIT_MS - 200).unref();
    (controls?.close() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        logger.info('stopped');
        logger.flush(() => process.exit(0));
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return (started) => {
    controls = started;
  };
}

async function serveSingle(options: ServerOptions, logger: Logger, output: CommandOutput): Promise<number> {
  const started = handleSignals(logger);
  let running;
  try {
    running = await startMeridian(options);
  } catch (error) {
    return failStart(logger, error, output);
  }
  const server = running;
  started({
    reload: () => {
      server.reloadZones().catch((error: unknown) => logger.error({ reason: String(error) }, 'reload failed'));
      server.geo?.reload().catch((error: unknown) => logger.error({ reason: String(error) }, 'geo reload failed'));
      server.dnssec?.reload().catch((error: unknown) => logger.error({ reason: String(error) }, 'key folder reload failed'));
    },
    close: () => server.close(),
  });
  return KEEP_RUNNING;
}

async function serveCluster(options: ServerOptions, workers: number, logger: Logger, output: CommandOutput): Promise<number> {
  const started = handleSignals(logger);
  let primary;
  try {
    primary = await startClusterPrimary(options, workers);
  } catch (error) {
    return failStart(logger, error, output);
  }
  const cluster = primary;
  started({ reload: () => cluster.reload(), close: () => cluster.close() });
  return KEEP_RUNNING;
}

/** `--probe-source ADDRESS`, repeatable: an IP address, at most one per family. */
export function parseProbeSources(texts: readonly string[]): string[] {
  const families = new Set<number>();
  for (const text of texts) {
    const family = isIP(text);
    if (family === 0) throw new Error(`--probe-source ${JSON.stringify(text)}: not an IP address`);
    if (families.has(family)) throw new Error(`--probe-source: one address per family (two IPv${family} addresses given)`);
    families.add(family);
  }
  return [...texts];
}
