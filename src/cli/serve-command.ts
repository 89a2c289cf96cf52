/** `meridian serve`: flags → ServerOptions, signals → reload and shutdown. */
import { parseArgs } from 'node:util';
import { parseListenAddress, type ListenAddress } from '../config/index.js';
import { startMeridian } from '../server/index.js';
import { createLogger, type LogLevel } from '../telemetry/logger.js';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SHUTDOWN_LIMIT_MS = 2000;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      zones: { type: 'string', default: 'zones' },
      listen: { type: 'string', multiple: true },
      geoip: { type: 'string', multiple: true },
      nsid: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'no-geo': { type: 'boolean', default: false },
      'no-health': { type: 'boolean', default: false },
      'state-file': { type: 'string' },
      admin: { type: 'string' },
      'query-log': { type: 'string' },
      'query-log-sample': { type: 'string', default: '1' },
    },
  });
  const level = values['log-level'] as LogLevel;
  if (!LEVELS.includes(level)) {
    process.stderr.write(`meridian: --log-level must be one of ${LEVELS.join(', ')}\n`);
    return 2;
  }
  let listen: ListenAddress[];
  try {
    listen = (values.listen?.length ? values.listen : ['127.0.0.1:5300', '[::1]:5300']).map(parseListenAddress);
  } catch (error) {
    process.stderr.write(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  let admin: ListenAddress | undefined;
  try {
    admin = values.admin === undefined ? undefined : parseListenAddress(values.admin);
  } catch (error) {
    process.stderr.write(`meridian: ${(error as Error).message.replace('--listen', '--admin')}\n`);
    return 2;
  }
  const sampleEvery = Number(values['query-log-sample']);
  if (!Number.isInteger(sampleEvery) || sampleEvery < 1) {
    process.stderr.write('meridian: --query-log-sample must be a whole number ≥ 1 (log 1 query in N)\n');
    return 2;
  }
  const logger = createLogger(level);
  let server;
  try {
    server = await startMeridian({
      zonesPath: values.zones!,
      listen,
      logger,
      geoipFiles: values.geoip ?? [],
      geoDisabled: values['no-geo'],
      nsid: values.nsid ?? null,
      healthDisabled: values['no-health'],
      stateFile: values['state-file'],
      admin,
      adminToken: process.env.MERIDIAN_ADMIN_TOKEN || null,
      queryLog: values['query-log'] ? { destination: values['query-log'], sampleEvery } : undefined,
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { address?: string; port?: number };
    const where = err.address !== undefined ? ` ${err.address.includes(':') ? `[${err.address}]` : err.address}:${err.port}` : '';
    const message = err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
      ? `cannot listen on${where}: ${err.code}${err.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : err.code === 'EADDRINUSE' ? ' (another process holds this port)' : ''}`
      : err.message;
    logger.fatal({ reason: message }, 'cannot start');
    logger.flush();
    process.stderr.write(`meridian: ${message}\n`);
    return 1;
  }
  const running = server;
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading zones and geo databases');
    running.reloadZones().catch((error: unknown) => logger.error({ reason: String(error) }, 'reload failed'));
    running.geo?.reload().catch((error: unknown) => logger.error({ reason: String(error) }, 'geo reload failed'));
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Whatever happens, the process is gone within the limit.
    setTimeout(() => process.exit(0), SHUTDOWN_LIMIT_MS - 200).unref();
    running
      .close()
      .catch(() => undefined)
      .finally(() => {
        logger.info('stopped');
        logger.flush(() => process.exit(0));
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1;
}
