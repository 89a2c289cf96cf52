/**
 * Every unit test file under src/ (NAME.test.ts at any depth) in one process, for `npm test`: one tsx
 * start and one load of the shared modules instead of one per file. Each file runs as a suite named by
 * its path, so its tests are reported and counted as when it runs alone, and its top-level before/after
 * hooks stay its own. Files run one after another (a suite's tests are sequential), so a file that
 * listens on process events or changes a global does it alone. The name sorts before test/e2e/, so
 * `node --test` (which sorts its files) starts this, the longest file, first. A single file still runs
 * alone: `node --import tsx --test src/wire/decode-query.test.ts`.
 *
 * The files are imported through one template `../src/${path}.test.ts`, which esbuild expands into every
 * file it matches when `npm test` bundles this file (test/support/compiled-build.ts); under tsx it is an
 * ordinary dynamic import.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceRoot = join(repoRoot, 'src');

function testFilesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return testFilesUnder(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const unitFiles = testFilesUnder(sourceRoot).sort();

for (const file of unitFiles) {
  const withinSources = relative(sourceRoot, file).slice(0, -'.test.ts'.length);
  describe(relative(repoRoot, file), async () => {
    await import(`../src/${withinSources}.test.ts`);
  });
}
