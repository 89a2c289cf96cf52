// Builds the optional batched UDP module (recvmmsg/sendmmsg) at `npm install`. Never fails the
// install: without Linux, a C compiler, make, python3 or Node's headers it says so and Meridian
// answers through dgram (`--io auto`, the default, takes the module wherever it is built).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const skipped = (why) => console.log(`meridian: batched UDP I/O not built (${why}); UDP through dgram`);
if (process.platform !== 'linux') {
  skipped(`recvmmsg/sendmmsg are Linux calls, this is ${process.platform}`);
} else {
  // npm hands lifecycle scripts its own node-gyp; Node's own headers (its install prefix) keep it offline.
  const gyp = process.env.npm_config_node_gyp;
  const prefix = path.resolve(process.execPath, '..', '..');
  const args = ['rebuild', ...(existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [])];
  try {
    if (gyp) execFileSync(process.execPath, [gyp, ...args], { cwd: here, stdio: 'pipe' });
    else execFileSync('node-gyp', args, { cwd: here, stdio: 'pipe' });
    console.log('meridian: batched UDP I/O built (used by default, --io auto)');
  } catch (error) {
    const output = `${error.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? error.message;
    skipped(output);
  }
}
