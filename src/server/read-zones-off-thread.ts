/** Runs the zone-parsing worker and reassembles what it sends into FileLoads. */
import { Worker } from 'node:worker_threads';
import { rejectDuplicateZones, type FileLoad, type NameSource, type ZoneSource } from '../zones/index.js';
import type { ZoneParseMessage } from './zone-parse-protocol.js';

// Under tsx (tests, development) this module is TypeScript, and so is the worker beside it.
const runningTypeScript = import.meta.url.endsWith('.ts');
const workerFile = new URL(runningTypeScript ? './zone-parse-worker.ts' : './zone-parse-worker.js', import.meta.url);

/** Starts the worker; under tsx, the worker registers tsx itself (a preloaded --import does not reach worker threads on Node 20). */
function startWorker(workerData: unknown): Worker {
  if (!runningTypeScript) return new Worker(workerFile, { workerData });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerFile.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Reads and validates every zone file under `path` in a worker thread. */
export function readZonePathOffThread(path: string, base = process.cwd()): Promise<FileLoad[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker({ path, base });
    const order: string[] = [];
    const loads = new Map<string, FileLoad>();
    const names = new Map<string, NameSource[]>();
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
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
        case 'names':
          names.get(message.file)?.push(...message.names);
          break;
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
