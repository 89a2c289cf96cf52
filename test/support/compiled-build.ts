/**
 * The bundles `npm test` runs, and the rule that says when a test file run alone uses them.
 *
 * `npm test` builds, in one esbuild call (~1-2 s), one bundle per test file (test/all-units.test.ts and
 * each test/e2e/*.test.ts), one of the CLI (src/cli/main.ts) and one of the zone parser thread
 * (src/server/zone-parse-worker.ts), into dist-test/ (same paths, .mjs), then runs the test bundles with
 * `node --test`. It is the transform tsx applies to each module as it loads (tsx uses esbuild), done once
 * ahead: a test process under tsx spends its CPU on tsx's loader thread and on ~150 separate module
 * loads, not on the transform (e2e/wire.test.ts: 1.8 s of CPU through tsx, 0.9 s as a bundle; a
 * spawned CLI that exits on a bad flag: 0.45 s from one transpiled file per module, 0.2 s as a bundle
 * that holds its packages too, see UNBUNDLED_PACKAGES). The test bundles leave packages to node_modules.
 * No process loads the sources beside a bundle of them (the CLI and zone parser bundles run in processes
 * and threads of their own), so there is one copy of every module per process or thread.
 *
 * Every `import.meta.url` / `import.meta.dirname` in a bundled module is replaced with that module's own
 * source location, so each path computed from one (fixtures, zones/, geoip/, native/, the status page,
 * package.json) resolves as it does from the sources. The test bundles carry inline source maps
 * (`node --enable-source-maps`), so a failure's stack names lines of the .ts files.
 *
 * The rule: a test uses the CLI and zone parser bundles only when dist-test/ holds them and nothing under
 * src/ (file or folder, so an added, edited or deleted module counts) is newer; otherwise it runs src/
 * through tsx. So a test file run alone (`node --import tsx --test test/e2e/x.test.ts`) after an edit to
 * src/ never meets a stale build; it is only slower until the next `npm test` (or
 * `node --import tsx test/support/compiled-build.ts`, which prints the test bundles it built).
 */
import { existsSync, readdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';
import { COMPILED_ZONE_PARSER_VARIABLE } from '../../src/server/read-zones-off-thread.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sourceRoot = join(repoRoot, 'src');
/** Git-ignored; bundles keep their entry's path from the repository root (src/cli/main.ts → src/cli/main.mjs). */
export const buildRoot = join(repoRoot, 'dist-test');
const bundleOf = (entry: string): string => join(buildRoot, relative(repoRoot, entry).replace(/\.ts$/, '.mjs'));
const cliSource = join(sourceRoot, 'cli', 'main.ts');
const zoneParserSource = join(sourceRoot, 'server', 'zone-parse-worker.ts');
const compiledMain = bundleOf(cliSource);

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

/**
 * Servers started in this process, and CLI processes it spawns (they inherit the variable), boot their
 * zone parser threads from the bundle when it is current. A bundle's read-zones-off-thread.ts sees its
 * source location (.ts), as under tsx, so it honours the variable (else it would register tsx in the thread).
 */
export function useCompiledZoneParser(): void {
  if (compiledBuildIsCurrent()) process.env[COMPILED_ZONE_PARSER_VARIABLE] = bundleOf(zoneParserSource);
}

/** node's arguments before the CLI's own: the CLI bundle when current, else the sources through tsx. */
export function cliEntry(): string[] {
  useCompiledZoneParser();
  return compiledBuildIsCurrent() ? [compiledMain] : ['--import', 'tsx', cliSource];
}

/** `import.meta.url`, `.dirname` or `.filename` in code (not quoted, as in this file's own strings). */
const IMPORT_META_LOCATION = /(?<!['"`])\bimport\.meta\.(url|dirname|filename)\b/g;

/** Each bundled module's `import.meta.url` / `.dirname` / `.filename` become its source file's. */
const sourceLocations: Plugin = {
  name: 'import-meta-of-source',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const location = { url: pathToFileURL(path).href, dirname: dirname(path), filename: path };
      const text = await readFile(path, 'utf8');
      const contents = text.replace(IMPORT_META_LOCATION, (_, key: keyof typeof location) => JSON.stringify(location[key]));
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Packages the CLI and zone parser bundles leave for node to load from node_modules: the two that compute
 * paths to files of their own (node-cron from import.meta.url, pino's transports from __dirname), which a
 * bundle would move. The rest are bundled: a spawned CLI otherwise loads ~330 package files (yaml,
 * prom-client with @opentelemetry/api, NATS): 0.24 s of CPU for `serve --bogus` instead of 0.19 s.
 */
const UNBUNDLED_PACKAGES = ['node-cron', 'pino'];

function testFilesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(folder, name));
}

/** The files `npm test` runs, longest first: the unit tests' one process, then the end-to-end files. */
export function suiteFiles(): string[] {
  return [join(repoRoot, 'test', 'all-units.test.ts'), ...testFilesIn(join(repoRoot, 'test', 'e2e'))];
}

/**
 * Bundles the test files, the CLI and the zone parser into dist-test/ (through a fresh folder renamed
 * into place, so a failed build leaves none); returns the test bundles, in suiteFiles() order.
 */
export async function buildForTests(): Promise<string[]> {
  const { build } = await import('esbuild');
  const fresh = `${buildRoot}.partial`;
  rmSync(fresh, { recursive: true, force: true });
  const shared: BuildOptions = { outdir: fresh, outbase: repoRoot, outExtension: { '.js': '.mjs' }, bundle: true, format: 'esm', platform: 'node', target: 'node20', plugins: [sourceLocations], logLevel: 'warning' };
  const tests = suiteFiles();
  await Promise.all([
    // The test bundles leave every package to node: their inline source maps would otherwise map package
    // code too, and parsing that map (at a process's first stack trace) costs more than the loads it saves.
    build({ ...shared, entryPoints: tests, packages: 'external', sourcemap: 'inline', sourcesContent: false }),
    build({
      ...shared,
      entryPoints: [cliSource, zoneParserSource],
      external: UNBUNDLED_PACKAGES,
      // CommonJS packages in an ES module bundle reach node's built-ins through `require`.
      banner: { js: `import { createRequire as createRequireOfBundle } from 'node:module'; const require = createRequireOfBundle(${JSON.stringify(join(repoRoot, 'package.json'))});` },
    }),
  ]);
  rmSync(buildRoot, { recursive: true, force: true });
  renameSync(fresh, buildRoot);
  return tests.map(bundleOf);
}

if (process.argv[1] !== undefined && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const bundles = await buildForTests();
  process.stdout.write(`${bundles.map((bundle) => relative(process.cwd(), bundle)).join('\n')}\n`);
}
