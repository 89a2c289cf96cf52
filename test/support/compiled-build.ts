/**
 * The build of src/ the tests run where they can, and the rule that says when they can.
 *
 * `npm test` transpiles src/ into dist-test/ first (esbuild, the transpiler tsx itself uses; one file per
 * module, same layout as dist/, no type checking: `tsc --noEmit` does that beside the tests, on the other core while they wait on clocks). A spawned
 * `node dist-test/cli/main.js` costs about a third of the CPU of `node --import tsx src/cli/main.ts`, and
 * a zone parser thread that loads dist-test/ about a third of one that registers tsx.
 *
 * The rule: the tests use dist-test/ only when dist-test/cli/main.js exists and nothing under src/
 * (file or folder, so an added, edited or deleted module counts) is newer than it; otherwise they run
 * src/ through tsx. So a test file run alone after an edit to src/ never meets a stale build; it is
 * only slower until the next `npm test` (or `node --import tsx test/support/compiled-build.ts`).
 */
import { existsSync, readdirSync, rmSync, renameSync, copyFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILED_ZONE_PARSER_VARIABLE } from '../../src/server/read-zones-off-thread.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sourceRoot = join(repoRoot, 'src');
/** A direct child of the repository, as dist/ is: src/fleet/version.ts and src/wire/batched-udp.ts find files two folders up. */
export const buildRoot = join(repoRoot, 'dist-test');
const compiledMain = join(buildRoot, 'cli', 'main.js');
/** Files src/ reads beside its modules at run time, copied into the build as `npm run build` does. */
const ASSETS = ['admin/status-page/status-page.html'];

function newestModification(path: string): number {
  let newest = statSync(path).mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(child) : statSync(child).mtimeMs);
  }
  return newest;
}

let current: boolean | undefined;

/** True when dist-test/ was built from src/ as it is now (see the rule above); looked at once per process. */
export function compiledBuildIsCurrent(): boolean {
  current ??= existsSync(compiledMain) && newestModification(sourceRoot) <= statSync(compiledMain).mtimeMs;
  return current;
}

/** node's arguments before the CLI's own: the compiled entry when current, else the sources through tsx. */
export function cliEntry(): string[] {
  return compiledBuildIsCurrent() ? [compiledMain] : ['--import', 'tsx', join(sourceRoot, 'cli', 'main.ts')];
}

/** Servers started in this process boot their zone parser threads from dist-test/ when it is current. */
export function useCompiledZoneParser(): void {
  if (compiledBuildIsCurrent()) process.env[COMPILED_ZONE_PARSER_VARIABLE] = join(buildRoot, 'server', 'zone-parse-worker.js');
}

function modulesOf(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return modulesOf(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Transpiles src/ into dist-test/ (through a fresh folder renamed into place, so a failed build leaves none). */
export async function buildForTests(): Promise<void> {
  const { build } = await import('esbuild');
  const fresh = `${buildRoot}.partial`;
  rmSync(fresh, { recursive: true, force: true });
  await build({ entryPoints: modulesOf(sourceRoot), outdir: fresh, outbase: sourceRoot, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
  for (const asset of ASSETS) copyFileSync(join(sourceRoot, asset), join(fresh, asset));
  rmSync(buildRoot, { recursive: true, force: true });
  renameSync(fresh, buildRoot);
}

if (process.argv[1] !== undefined && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  await buildForTests();
}
