/**
 * Servers under the same noise: every contender is up at once and dnsperf drives them in turn at a
 * fixed rate, one short slice each per round, each round in another order. On a shared VM the host's
 * bursts last seconds and come minute by minute (a responder doing nothing has seconds with a p99 of
 * 5 ms between seconds of 0.2 ms), so rows measured a minute apart compare bursts, not servers; slices
 * taken in turn meet the same bursts. Used by `bench/interleaved.ts` and by `--compare`'s tail phase
 * (bench/run.ts), which judges the p99 targets on it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataFile } from './scenarios.js';

export interface InterleavedTarget {
  label: string;
  port: number;
}

export interface InterleavedOptions {
  rounds: number;
  sliceS: number;
  qps: number;
  data: DataFile;
  /** where dnsperf's per-query output goes while a slice is read */
  workDir: string;
  /** seconds each server is driven before the first round (not recorded) */
  warmupS?: number;
}

export interface InterleavedRow {
  label: string;
  answers: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** the p99 of each of its slices, in round order: slice i of every server met the same minute */
  perSliceP99Ms: number[];
}

/** The value at fraction p of an ascending list (nearest rank below). */
export const percentileOf = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** One dnsperf slice against `port`; the latency (ms) of every answer when `record`. */
function slice(port: number, seconds: number, options: InterleavedOptions, record: boolean): number[] {
  const out = path.join(options.workDir, 'interleaved-slice.txt');
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', options.data.path, '-l', String(seconds), '-c', '4', '-T', '1', '-q', '100', '-t', '2', '-Q', String(options.qps), ...(options.data.binary ? ['-B'] : []), ...(record ? ['-v'] : [])];
  execFileSync('bash', ['-c', `dnsperf ${args.join(' ')} > ${out} 2>&1`]);
  if (!record) return [];
  const latencies: number[] = [];
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    // `-v`: one line per answer, "> RCODE name type latency-seconds"; "> T" lines are timeouts
    if (!line.startsWith('> ') || line.startsWith('> T ')) continue;
    const ms = Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000;
    if (Number.isFinite(ms)) latencies.push(ms);
  }
  return latencies;
}

/** Drives every target in turn, `rounds` times, and gives each one's percentiles over all its slices. */
export function driveInterleaved(targets: readonly InterleavedTarget[], options: InterleavedOptions): InterleavedRow[] {
  const latencies = targets.map((): number[] => []);
  const perSlice = targets.map((): number[] => []);
  const warmupS = options.warmupS ?? 2;
  if (warmupS > 0) for (const t of targets) slice(t.port, warmupS, options, false);
  for (let round = 0; round < options.rounds; round++) {
    // Each round in another order, so no server always follows the same one.
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round) % targets.length;
      const mine = slice(targets[i]!.port, options.sliceS, options, true).sort((a, b) => a - b);
      perSlice[i]!.push(mine.length === 0 ? NaN : percentileOf(mine, 0.99));
      for (const ms of mine) latencies[i]!.push(ms);
    }
  }
  return targets.map((t, i) => {
    const sorted = latencies[i]!.sort((a, b) => a - b);
    const at = (p: number): number => (sorted.length === 0 ? NaN : percentileOf(sorted, p));
    return { label: t.label, answers: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!, perSliceP99Ms: perSlice[i]! };
  });
}

/**
 * How many rounds had `row`'s slice p99 within `ratio`× the reference's slice p99 of the same round
 * (adjacent slices: the closest this machine gets to the same noise).
 */
export function roundsWithin(row: InterleavedRow, reference: InterleavedRow, ratio: number): { within: number; rounds: number } {
  let within = 0;
  const rounds = Math.min(row.perSliceP99Ms.length, reference.perSliceP99Ms.length);
  for (let i = 0; i < rounds; i++) if (row.perSliceP99Ms[i]! <= ratio * reference.perSliceP99Ms[i]!) within++;
  return { within, rounds };
}
