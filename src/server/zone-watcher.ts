/**
 * Watches the zones path (a folder or one file) and calls back once a burst of editor writes has
 * settled; the zone parser thread boots while it settles. A watcher that cannot start or fails
 * later says so and leaves reloading to SIGHUP.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from '../telemetry/index.js';
import { bootZoneParser } from './read-zones-off-thread.js';

export async function watchZonePath(path: string, quietMs: number, onSettled: () => void, logger: Logger): Promise<{ close(): void }> {
  const isFolder = (await stat(path)).isDirectory();
  let timer: NodeJS.Timeout | null = null;
  const changed = (): void => {
    if (timer) clearTimeout(timer);
    // The parser thread starts while the burst of writes settles.
    else bootZoneParser();
    timer = setTimeout(() => {
      timer = null;
      onSettled();
    }, quietMs);
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(path, { persistent: false }, (_event, file) => {
      if (!isFolder || file === null || /\.ya?ml$/i.test(String(file))) changed();
    });
    watcher.on('error', (error) => logger.warn({ reason: String(error) }, 'zone watcher failed; use SIGHUP to reload'));
  } catch (error) {
    logger.warn({ reason: String(error) }, 'cannot watch the zones folder; use SIGHUP to reload');
  }
  return {
    close() {
      watcher?.close();
      if (timer) clearTimeout(timer);
    },
  };
}
