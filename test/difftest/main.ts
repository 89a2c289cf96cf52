/**
 * `npm run difftest -- [--seeds N] [--from S] [--seed S] [--against nsd] [--show]`: the
 * differential run from the command line. `--seeds N` runs seeds S..S+N-1 (S from --from, 1 by
 * default); `--seed S` replays one; `--against nsd` checks NSD against Knot instead of Meridian;
 * `--show` prints the zone files of the seeds run. Exits 1 when any answer differs.
 */
import { parseArgs } from 'node:util';
import { generateZone } from './generate-zone.js';
import { classify, presentDifference, runDifftest, type Candidate } from './run-difftest.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string' },
    against: { type: 'string', default: 'meridian' },
    show: { type: 'boolean', default: false },
    wildcards: { type: 'boolean', default: false },
  },
});

const count = Number(values.seeds);
const from = Number(values.seed ?? values.from);
const candidate = values.against as Candidate;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(from) || (candidate !== 'meridian' && candidate !== 'nsd')) {
  console.error('usage: npm run difftest -- [--seeds N] [--from S] [--seed S] [--against meridian|nsd] [--show] [--wildcards]');
  process.exit(2);
}
const seeds = Array.from({ length: values.seed !== undefined ? 1 : count }, (_, i) => from + i);
if (values.show) {
  for (const seed of seeds) {
    const zone = generateZone(seed, { wildcards: values.wildcards });
    console.log(`---- seed ${seed}: ${zone.origin}.yaml\n${zone.yaml}---- ${zone.origin}.zone\n${zone.masterFile}`);
  }
}

const started = Date.now();
const report = await runDifftest({ seeds, candidate, wildcards: values.wildcards, progress: (line) => console.error(line) });
for (const difference of report.differences) console.log(`${presentDifference(difference, candidate)}\n`);
console.log(`${candidate} vs knot: ${report.seeds} seeds, ${report.questions} questions, ${report.differences.length} differences, ${report.allowed} ANY answers with another RRset of the name (allowed), ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const { what, count, types } of classify(report.differences)) console.log(`  ${String(count).padStart(6)}  ${what} (${types.join(' ')})`);
process.exit(report.differences.length === 0 ? 0 : 1);
