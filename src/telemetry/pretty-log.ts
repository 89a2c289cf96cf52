/**
 * telemetry/pretty-log: pino's JSON lines turned into one line a person reads on a terminal:
 * time, level, message, then the remaining fields as key=value. Used when standard output is a
 * terminal (or with --log-format pretty); systemd, Docker and pipes keep the JSON lines. Written
 * here instead of pulling in pino-pretty (13 packages) for the few lines a server prints.
 */
import pino from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };

/** Quotes a value only when a reader could misread it bare (spaces, quotes, `=`, empty). */
function presentValue(value: unknown): string {
  if (typeof value === 'string') return value === '' || /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)) return value.map(String).join(',');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The HH:MM:SS.mmm of an ISO time in UTC (the full date stays in the JSON format). */
function clockTime(time: unknown): string {
  if (typeof time === 'string') {
    const match = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(time);
    if (match) return match[1]!;
  }
  if (typeof time === 'number') return new Date(time).toISOString().slice(11, 23);
  return '--:--:--';
}

/** One pino JSON line → `05:31:02.123 WARN  member down  zone=example.test pool=london …`. */
export function formatLogLine(line: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { time, level, msg, ...fields } = record;
  const levelNumber = typeof level === 'number' ? level : 30;
  const levelName = (LEVEL_NAMES[levelNumber] ?? String(level)).padEnd(5);
  const paint = (code: string, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${paint('90', `${key}=`)}${presentValue(value)}`);
  const message = typeof msg === 'string' ? msg : '';
  return `${paint('90', clockTime(time))} ${paint(LEVEL_COLOURS[levelNumber] ?? '0', levelName)} ${message}${pairs.length ? `  ${pairs.join(' ')}` : ''}\n`;
}

/** A pino destination that writes each line formatted for people; flush() reaches the file descriptor. */
export function prettyDestination(fd: number, colour: boolean): pino.DestinationStream & { flush(cb?: (err?: Error) => void): void } {
  const out = pino.destination({ fd, sync: false, minLength: 0 });
  return {
    write(chunk: string) {
      // pino hands over whole lines, one call per record.
      for (const line of chunk.split('\n')) if (line !== '') out.write(formatLogLine(line, colour));
    },
    flush(cb?: (err?: Error) => void) {
      out.flush(cb);
    },
  };
}
