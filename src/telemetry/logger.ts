/**
 * telemetry/logger: the pino factory. Log fields are a fixed vocabulary
 * (zone, pool, member, check, reason, file, line, col); nothing on the
 * per-query path logs above debug.
 */
import { isatty } from 'node:tty';
import pino from 'pino';
import { prettyDestination } from './pretty-log.js';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** `json`: one JSON line per record (machines); `pretty`: one readable line (people at a terminal). */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** The format when none is asked for: pretty on a terminal, JSON for systemd, Docker and pipes. */
export function defaultLogFormat(isTerminal: boolean): LogFormat {
  return isTerminal ? 'pretty' : 'json';
}

/** Builds the process logger: asynchronous writes (flushed on shutdown), JSON lines or pretty ones. */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'json', fd = 1): Logger {
  const options: pino.LoggerOptions = { base: undefined, level, timestamp: pino.stdTimeFunctions.isoTime };
  // Colour only on a terminal, and never with NO_COLOR set (no-color.org).
  if (format === 'pretty') return pino(options, prettyDestination(fd, isatty(fd) && !process.env.NO_COLOR));
  return pino(options, pino.destination({ fd, sync: false, minLength: 0 }));
}

/** A logger that drops everything: for tests and library use without output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** An error as the `reason` field of a log line: its stack when it has one (where it was thrown matters). */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
