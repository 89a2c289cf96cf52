/**
 * telemetry/logger: the pino factory. Log fields are a fixed vocabulary
 * (zone, pool, member, check, reason, file, line, col); nothing on the
 * per-query path logs above debug.
 */
import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Builds the process logger: JSON lines, asynchronous writes (flushed on shutdown). */
export function createLogger(level: LogLevel = 'info', fd = 1): Logger {
  return pino(
    { base: undefined, level, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd, sync: false, minLength: 0 }),
  );
}

/** A logger that drops everything: for tests and library use without output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
