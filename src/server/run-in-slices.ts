/**
 * Long off-path work (probe targets of a fresh zone, the all-down review) run as a generator in
 * slices between answers, so a 10,000-name catalog never holds a query up for more than a slice.
 */
import { performance } from 'node:perf_hooks';

/**
 * Longest stretch of work between two turns of the event loop: short, because on a machine whose
 * cores are busy the scheduler and the collector stretch every slice.
 */
export const SLICE_MS = 2;

/**
 * Slices of work that runs beside answers on its own schedule, after every health change (the
 * all-down review): a fraction of a millisecond, so it never shows in the answers' tail.
 */
export const BACKGROUND_SLICE_MS = 0.5;

/**
 * Runs a generator to its end in slices of at most `sliceMs`, yielding to the event loop between
 * them (the first slice runs at once). Resolves with its value, or undefined when `abandoned()`
 * turns true between two slices; rejects with whatever the generator throws, in any slice (a
 * throw in a later slice happens in a setImmediate callback, where it would otherwise be uncaught
 * and end the process).
 */
export function runInSlices<T>(steps: Generator<void, T, void>, abandoned: () => boolean = () => false, sliceMs = SLICE_MS): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const slice = (): void => {
      try {
        if (abandoned()) return resolve(undefined);
        const deadline = performance.now() + sliceMs;
        for (;;) {
          const step = steps.next();
          if (step.done) return resolve(step.value);
          if (performance.now() >= deadline) return void setImmediate(slice);
        }
      } catch (error) {
        reject(error);
      }
    };
    slice();
  });
}

/** Runs a generator to its end in one go. */
export function runAtOnce<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
