/** Where policies get their randomness: passed in, so tests can make it repeatable. */
export interface RandomSource {
  /** A number in [0, 1). */
  next(): number;
}

/** The process's own generator: what the server uses. */
export const mathRandom: RandomSource = { next: Math.random };

/** A small deterministic generator (mulberry32) for tests and benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
