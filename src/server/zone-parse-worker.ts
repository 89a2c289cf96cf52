/**
 * Worker thread: reads and validates zone files away from the event loop that answers queries
 * (YAML parsing runs at about 1 MB/s and would otherwise stall answers for seconds on a large
 * zone). Posts each file's result; large zones travel in batches of names so the main thread
 * never has to deserialize one huge message at once, and each batch waits for the main thread's
 * "next" so that batches are taken one per event-loop turn (a port drains every message already
 * queued in one go: twenty batches of a 10,000-name zone stalled answers for ~80 ms).
 */
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isKnownCountryCode } from '../geo/index.js';
import { listZoneFiles, readZoneFile, displayZonePath } from '../zones/index.js';
import type { ZoneParseMessage } from './zone-parse-protocol.js';

const NAMES_PER_MESSAGE = 250;

/**
 * Garbage the parser may leave between full collections while it reads a large file piece by
 * piece. V8 lets its old generation grow well past what is alive (55 MB used for 22 MB alive on
 * a 680 KB file), and this thread's heap counts in the server's RSS next to the zones being
 * served; collecting whenever 16 MB more is in use keeps the thread at ~30 MB (a few
 * collections of ~25 ms on a 10,000-name file).
 */
const GARBAGE_ALLOWANCE_BYTES = 16 * 2 ** 20;
// `gc` exists when node runs with --expose-gc, as the launch commands in this repository do.
const collect = (globalThis as { gc?: () => void }).gc;

function garbageCollector(): (() => void) | undefined {
  if (typeof collect !== 'function') return undefined;
  let usedAfterCollection = getHeapStatistics().used_heap_size;
  return () => {
    if (getHeapStatistics().used_heap_size - usedAfterCollection < GARBAGE_ALLOWANCE_BYTES) return;
    collect();
    usedAfterCollection = getHeapStatistics().used_heap_size;
  };
}

async function run(port: MessagePort, { path, base }: { path: string; base: string }): Promise<void> {
  const post = (message: ZoneParseMessage): void => port.postMessage(message);
  const taken = (): Promise<void> => new Promise((resolve) => port.once('message', () => resolve()));
  try {
    for (const file of await listZoneFiles(path)) {
      const load = await readZoneFile(file, { isKnownCountry: isKnownCountryCode, afterPiece: garbageCollector() }, displayZonePath(file, base));
      if (!load.ok) {
        post({ kind: 'failed', load });
        continue;
      }
      const { names, ...rest } = load.source;
      post({ kind: 'zone', file: load.file, source: { ...rest, names: [] } });
      for (let i = 0; i < names.length; i += NAMES_PER_MESSAGE) {
        const next = taken();
        post({ kind: 'names', file: load.file, names: names.slice(i, i + NAMES_PER_MESSAGE) });
        await next;
      }
    }
    post({ kind: 'done' });
  } catch (error) {
    post({ kind: 'fatal', message: error instanceof Error ? error.message : String(error) });
  }
}

// Parsing is background work: on a machine whose cores are all busy answering, the scheduler
// should hand them to the threads that answer. On Linux a nice value belongs to a thread, and
// pid 0 means this thread alone; where that fails (other systems, no permission), parse anyway.
try {
  setPriority(19);
} catch {
  // keep the default priority
}

// The job comes as workerData, or as the first message (a worker booted ahead of need).
const job = workerData as { path: string; base: string } | null | undefined;
const port = parentPort;
if (port !== null) {
  if (job) void run(port, job);
  else port.once('message', (message: { path: string; base: string }) => void run(port, message));
}
