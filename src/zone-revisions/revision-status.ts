/** What an instance serving fleet revisions reports in /status, metrics and `fleet status`. */
export interface ZoneRevisionStatus {
  /** The revision being served; null before the first. */
  served: {
    number: number;
    contentHash: string;
    createdAt: string;
    message: string;
    /** When this instance began serving it. */
    servedSince: string;
    /** `cache`: read from the state folder at start, not yet confirmed by the engine. */
    from: 'engine' | 'cache';
  } | null;
  /** The newest revision seen in the engine; null before the engine was read. */
  newest: number | null;
  /** The last revision refused and why (file:line:col diagnostics); cleared when a later one is served. */
  refused: { number: number; at: string; reason: string; diagnostics: string[] } | null;
  /** Revisions refused since start. */
  refusals: number;
}
