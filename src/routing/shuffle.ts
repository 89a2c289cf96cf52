/** DNS round robin: every answer lists its records in a fresh random order; weighted pools' draws. */
import type { RandomSource } from './random-source.js';
import { weightedDrawInto, type Weighted } from './weighted-pick.js';

/** Lists up to this long are shuffled into an array the Shuffler reuses; longer ones into a new one. */
const REUSED_UP_TO = 16;

/**
 * Shuffled copies (Fisher–Yates) for the query path. The compiled RRset is shared by every query,
 * so it is never shuffled in place; the copy goes into an array of that length this Shuffler
 * keeps, so a shuffle allocates nothing. That copy is valid until the next shuffle of a list of
 * the same length: the answer it goes into is encoded before the next query. A single record is
 * returned as it is.
 */
export class Shuffler {
  private readonly arrays: unknown[][] = [];
  /** A weighted draw's scratch and picks, and its results by length: kept like `arrays`. */
  private readonly undrawn: unknown[] = [];
  private readonly picks: unknown[] = [];
  private readonly drawnArrays: unknown[][] = [];

  /**
   * A weighted pool's answer: up to `maxAnswers` items drawn by weight (weightedPick's draws),
   * each turned into what is answered by `answerOf(item, mode)`, in an array of that length this
   * Shuffler keeps (valid until the next draw of as many). Allocates nothing once warm.
   */
  drawWeighted<T extends Weighted, R>(items: readonly T[], maxAnswers: number | null, random: RandomSource, answerOf: (item: T, mode: number) => R, mode: number): readonly R[] {
    const picks = this.picks as T[];
    const n = weightedDrawInto(items, maxAnswers, random, this.undrawn as T[], picks);
    const out = n <= REUSED_UP_TO ? ((this.drawnArrays[n] ??= new Array<unknown>(n)) as R[]) : new Array<R>(n);
    for (let i = 0; i < n; i++) out[i] = answerOf(picks[i]!, mode);
    return out;
  }

  shuffled<T>(items: readonly T[], random: RandomSource): readonly T[] {
    const n = items.length;
    if (n < 2) return items;
    let out: T[];
    if (n <= REUSED_UP_TO) out = (this.arrays[n] ??= new Array<unknown>(n)) as T[];
    else out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = items[i]!;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      const swap = out[i]!;
      out[i] = out[j]!;
      out[j] = swap;
    }
    return out;
  }
}
