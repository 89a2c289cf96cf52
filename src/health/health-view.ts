/**
 * The read-only face of member health that the query path sees. Routing asks
 * it about each member; it never blocks and never does I/O.
 */

/** How a member counts for answers: up (answer it), down (failed), drained (never answered). */
export type MemberStatus = 'up' | 'down' | 'drained';

export interface HealthView {
  /** Grows on every change of any member's status, so callers can cache derived answers per version. */
  readonly version: number;
  /**
   * Status of one member. `probeKey` identifies the (probe address, check) pair, null when the
   * member has no check (always up unless overridden); `address` is the member's own answered
   * address, which operator overrides are keyed by.
   */
  status(probeKey: string | null, address: string): MemberStatus;
}

/** Every member up: the view used before health checking exists or when it is off. */
export const ALL_MEMBERS_UP: HealthView = { version: 0, status: () => 'up' };

/** A view where probes do not count but operator overrides still do (`--no-health`). */
export function overridesOnly(health: { readonly version: number; overrideOf(address: string): MemberStatus | null }): HealthView {
  return {
    get version() {
      return health.version;
    },
    status: (_probeKey, address) => health.overrideOf(address) ?? 'up',
  };
}
