/** A pino logger that keeps its JSON lines in memory, for tests that assert on what was logged. */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../src/telemetry/logger.js';

export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream) as unknown as Logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
