/**
 * The VM's floor under the tail: how late an idle Node process wakes up. Nothing is served and nothing
 * is sent; the process sleeps 1 ms at a time (setTimeout) for `--seconds` (default 10, at most 60) and
 * prints, per second, the p99 and the max of how much later than asked it woke. On a quiet bare-metal
 * Linux host this stays near libuv's 1 ms timer granularity; a VM whose idle vCPUs the host deschedules
 * adds its own milliseconds, which every server on it pays when a query finds it asleep.
 *
 *   npx tsx bench/idle-wakeups.ts [--seconds N]
 */
import { performance } from 'node:perf_hooks';

const flag = process.argv.indexOf('--seconds');
const seconds = Math.min(60, Math.max(1, flag > 0 ? Number(process.argv[flag + 1]) || 10 : 10));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const rows: string[] = [];
for (let second = 0; second < seconds; second++) {
  const late: number[] = [];
  const end = performance.now() + 1000;
  while (performance.now() < end) {
    const asleep = performance.now();
    await sleep(1);
    late.push(performance.now() - asleep - 1);
  }
  late.sort((a, b) => a - b);
  const p99 = late[Math.floor(late.length * 0.99)] ?? 0;
  rows.push(`${second + 1}: p99 ${p99.toFixed(2)} max ${(late.at(-1) ?? 0).toFixed(2)} ms (${late.length} sleeps)`);
}
console.log(`woken later than asked, idle process, 1 ms sleeps:\n${rows.join('\n')}`);
