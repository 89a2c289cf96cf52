/**
 * One way to stop a server, whether it is closing or failed half-way through starting: each
 * part registers how to stop itself as soon as it is built, and the stops run in reverse order
 * (the last built stops first), each once, every one of them even when an earlier one fails.
 */
import { reasonOf, type Logger } from '../telemetry/index.js';

export class Teardown {
  private readonly stops: { what: string; stop: () => unknown }[] = [];
  private running: Promise<void> | null = null;

  /** `logger` says which stop failed and why. */
  constructor(private readonly logger: Logger) {}

  /** Registers a stop; `what` names the part in a failure's log line. */
  add(what: string, stop: () => unknown): void {
    this.stops.push({ what, stop });
  }

  /** Registers `part.close()` as the stop of a part that may be absent (null), and hands the part back. */
  own<T extends { close(): unknown } | null>(what: string, part: T): T {
    if (part !== null) this.add(what, () => part.close());
    return part;
  }

  /** True once `run` has been called. */
  get started(): boolean {
    return this.running !== null;
  }

  /** Runs every stop, last registered first; a second call waits for the first run. Never rejects. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          this.logger.warn({ reason: reasonOf(error) }, `stopping ${what} failed`);
        }
      }
    })();
    return this.running;
  }
}
