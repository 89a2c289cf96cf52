/**
 * Errors met where nothing may log: the query path and the socket callbacks it runs in. There an
 * error is only noted (no I/O, no clock); the log line is written from a later turn, at once for
 * the first one, then at most one line per kind and interval, saying how many there were. A flood
 * of failing packets thus costs a counter each, not a log line each. The errors are counted for
 * /metrics where they happen; this only makes sure none of them goes without a trace.
 */
import { reasonOf, type Logger } from './logger.js';

export interface FaultKind {
  level: 'warn' | 'error';
  /** The log line's message. */
  msg: string;
}

const DEFAULT_INTERVAL_MS = 60_000;

export class FaultLog<Kind extends string> {
  /** Per kind since the last line: how many, and the first error (its stack says where). */
  private readonly pending = new Map<Kind, { count: number; first: unknown }>();
  /** A line is due or was just written: further notes wait for the interval to end. */
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly kinds: Readonly<Record<Kind, FaultKind>>,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  /** Notes one error; cheap and silent, so it may run per packet. */
  note(kind: Kind, error: unknown): void {
    const entry = this.pending.get(kind);
    if (entry !== undefined) entry.count++;
    else this.pending.set(kind, { count: 1, first: error });
    if (this.busy || this.closed) return;
    this.busy = true;
    setImmediate(() => this.write());
  }

  /** Writes what is noted and stops the interval (shutdown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.flush();
  }

  private write(): void {
    if (this.closed) return;
    this.flush();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.pending.size > 0) this.write();
      else this.busy = false;
    }, this.intervalMs);
    this.timer.unref();
  }

  private flush(): void {
    for (const [kind, { count, first }] of this.pending) {
      const { level, msg } = this.kinds[kind];
      this.logger[level]({ reason: reasonOf(first), count }, count === 1 ? msg : `${msg} (${count} times since the last such line; the first shown)`);
    }
    this.pending.clear();
  }
}
