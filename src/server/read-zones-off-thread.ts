/** Runs the zone-parsing worker and reassembles what it sends into FileLoads. */
import { Worker } from 'node:worker_threads';
import { rejectDuplicateZones, type FileLoad, type NameSource, type ZoneSource } from '../zones/index.js';
import type { ZoneParseMessage } from './zone-parse-protocol.js';

// Under tsx (tests, development) this module is TypeScript, and so is the worker beside it; so it seems in
// the test bundles too, which keep each module's source URL (test/support/compiled-build.ts).
const runningTypeScript = import.meta.url.endsWith('.ts');
const workerFile = new URL(runningTypeScript ? './zone-parse-worker.ts' : './zone-parse-worker.js', import.meta.url);

/**
 * Under tsx, a compiled zone parser to boot instead of the TypeScript one: the tests set it to their
 * bundle of zone-parse-worker.ts when it is current (test/support/compiled-build.ts), since a worker that
 * registers tsx costs about three times the CPU of one that loads JavaScript.
 */
export const COMPILED_ZONE_PARSER_VARIABLE = 'MERIDIAN_COMPILED_ZONE_PARSER';

/** node's flags minus the ones that load tsx (`--import tsx`, `--import=tsx`, `--require tsx/cjs`...). */
function withoutTsx(flags: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if ((flag === '--import' || flag === '--require' || flag === '-r') && flags[i + 1]?.startsWith('tsx')) i++;
    else if (!/^--(import|require)=tsx/.test(flag)) kept.push(flag);
  }
  return kept;
}

/**
 * Starts a worker; it waits for its job ({ path, base }) as its first message. Under tsx, the
 * worker registers tsx itself (a preloaded --import does not reach worker threads on Node 20).
 */
function startWorker(): Worker {
  if (!runningTypeScript) return new Worker(workerFile);
  const compiled = process.env[COMPILED_ZONE_PARSER_VARIABLE];
  // The compiled worker is JavaScript: it needs none of this process's tsx loader flags, which a
  // worker inherits and which cost it ~150 ms of CPU to set up.
  if (compiled) return new Worker(compiled, { execArgv: withoutTsx(process.execArgv) });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/**
 * A worker booted ahead of the next read: starting a thread and loading the parser takes
 * 150-200 ms (several times that under tsx), which would otherwise sit between a zone edit and
 * its answers. Each worker still reads once and is terminated, so parse garbage dies with it.
 */
let standby: Worker | null = null;

/** Boots a parser thread for the next read, unless one is ready (a zone file just changed). */
export function bootZoneParser(): void {
  if (standby !== null) return;
  const worker = startWorker();
  // An idle standby never keeps the process alive.
  worker.unref();
  const forget = (): void => {
    if (standby === worker) standby = null;
  };
  worker.on('error', forget);
  worker.once('exit', forget);
  standby = worker;
}

/**
 * Reads and validates every zone file under `path` in a worker thread. With `keepWarm`, another
 * worker is booted once this one is done, ready for the next call.
 */
export function readZonePathOffThread(path: string, base = process.cwd(), keepWarm = false): Promise<FileLoad[]> {
  return new Promise((resolve, reject) => {
    const worker = standby ?? startWorker();
    standby = null;
    worker.ref();
    worker.postMessage({ path, base });
    const order: string[] = [];
    const loads = new Map<string, FileLoad>();
    const names = new Map<string, NameSource[]>();
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if (keepWarm) bootZoneParser();
      if (error) return reject(error);
      resolve(
        rejectDuplicateZones(
          order.map((file) => {
            const load = loads.get(file)!;
            return load.ok ? { ...load, source: { ...load.source, names: names.get(file) ?? [] } } : load;
          }),
        ),
      );
    };
    worker.on('message', (message: ZoneParseMessage) => {
      switch (message.kind) {
        case 'failed':
          order.push(message.load.file);
          loads.set(message.load.file, message.load);
          break;
        case 'zone':
          order.push(message.file);
          loads.set(message.file, { file: message.file, ok: true, source: message.source as ZoneSource });
          names.set(message.file, []);
          break;
        case 'names': {
          const list = names.get(message.file);
          for (const name of message.names) list?.push(name);
          // Ask for the next batch from a later turn, so queries run between batches.
          setImmediate(() => {
            if (!settled) worker.postMessage('next');
          });
          break;
        }
        case 'done':
          finish(null);
          break;
        case 'fatal':
          finish(new Error(message.message));
          break;
      }
    });
    worker.on('error', (error) => finish(error));
    worker.on('exit', (code) => finish(code === 0 ? null : new Error(`zone parser exited with code ${code}`)));
  });
}
