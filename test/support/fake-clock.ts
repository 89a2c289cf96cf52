/**
 * Deterministic monotonic time for the health scheduler's tests: timers run in order as `advance`
 * moves the clock, and `stall` moves it without running any (an event loop blocked that long).
 */
import type { MonitorClock, TickSource } from '../../src/health/tick-source.js';

export class FakeClock implements MonitorClock {
  t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** A tick source firing on every whole second of fake time, like the cron task on wall-clock seconds. */
  readonly ticks: TickSource = (onTick) => {
    let handle: unknown;
    const arm = (): void => {
      handle = this.setTimeout(() => {
        // Re-armed first, so a throwing tick handler (which the real cron task survives) does not stop the ticks.
        arm();
        onTick();
      }, 1000 - (this.t % 1000));
    };
    arm();
    return { stop: () => this.clearTimeout(handle) };
  };

  /** Runs every timer due within `ms`, in order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.at < nextAt || (timer.at === nextAt && id < nextId)) {
          nextId = id;
          nextAt = timer.at;
        }
      }
      if (nextAt > end) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, nextAt);
      timer.fn();
      // Let probe promises settle before the next timer, as they would in real time.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.t = end;
  }

  /** Moves time on by `ms` without running any timer: they all run late, at the next `advance`. */
  stall(ms: number): void {
    this.t += ms;
  }
}
