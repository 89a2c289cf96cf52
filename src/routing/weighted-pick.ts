/** Weighted choice without repeats, capped at `maxAnswers`: how a pool picks which members to answer. */
import type { RandomSource } from './random-source.js';

/** Anything with a weight. */
export interface Weighted {
  weight: number;
}

/**
 * Draws up to `maxAnswers` items, each draw with probability proportional to weight among the
 * items not yet drawn; the draw order is the answer order, so heavier members also come first
 * more often. With no cap every item is drawn (a weighted shuffle).
 */
export function weightedPick<T extends Weighted>(items: readonly T[], maxAnswers: number | null, random: RandomSource): T[] {
  const count = Math.min(maxAnswers ?? items.length, items.length);
  const pool = items.slice();
  let remaining = 0;
  for (const item of pool) remaining += item.weight;
  const out: T[] = [];
  while (out.length < count && pool.length > 0) {
    let target = random.next() * remaining;
    let index = 0;
    for (; index < pool.length - 1; index++) {
      target -= pool[index]!.weight;
      if (target < 0) break;
    }
    const [picked] = pool.splice(index, 1);
    out.push(picked!);
    remaining -= picked!.weight;
  }
  return out;
}
