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
  const out: T[] = [];
  out.length = weightedDrawInto(items, maxAnswers, random, [], out);
  return out;
}

/**
 * weightedPick's draw into arrays the caller keeps (the query path's, so a draw allocates nothing):
 * `undrawn` is scratch of at least `items.length`, the picks go to `out[0…]`; returns how many.
 * The same draws as weightedPick for the same random numbers.
 */
export function weightedDrawInto<T extends Weighted>(items: readonly T[], maxAnswers: number | null, random: RandomSource, undrawn: T[], out: T[]): number {
  const count = Math.min(maxAnswers ?? items.length, items.length);
  let left = items.length;
  let remaining = 0;
  for (let i = 0; i < left; i++) {
    undrawn[i] = items[i]!;
    remaining += items[i]!.weight;
  }
  let drawn = 0;
  while (drawn < count && left > 0) {
    let target = random.next() * remaining;
    let index = 0;
    for (; index < left - 1; index++) {
      target -= undrawn[index]!.weight;
      if (target < 0) break;
    }
    const picked = undrawn[index]!;
    // Out of the undrawn, the others keeping their order (as a splice would).
    for (let i = index; i < left - 1; i++) undrawn[i] = undrawn[i + 1]!;
    left--;
    out[drawn++] = picked;
    remaining -= picked.weight;
  }
  return drawn;
}
