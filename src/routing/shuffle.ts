/** DNS round robin: every answer lists its records in a fresh random order. */
import type { RandomSource } from './random-source.js';

/**
 * A shuffled copy (Fisher–Yates). The compiled RRset is shared by every query, so it is never
 * shuffled in place; a single record is returned as it is.
 */
export function shuffled<T>(items: readonly T[], random: RandomSource): readonly T[] {
  const n = items.length;
  if (n < 2) return items;
  const out = items.slice();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const swap = out[i]!;
    out[i] = out[j]!;
    out[j] = swap;
  }
  return out;
}
