/**
 * health/member-health: the rise/fall state machine of one probe target, as a pure function.
 * The first probe sets the state directly (as gdnsd does); after that `rise` consecutive
 * successes bring a down target up and `fall` consecutive failures take an up target down.
 */

/** Health state of one probe target (shared by every member that uses the same probe key). */
export interface MemberHealth {
  /** Whether the target counts as up; true until the first probe says otherwise. */
  readonly up: boolean;
  /** Whether any probe has finished yet. */
  readonly probed: boolean;
  /** Consecutive results of the same kind: > 0 successes, < 0 failures, 0 before any probe. */
  readonly streak: number;
}

/** The state before any probe: up, so a target whose first probe has not finished is answered. */
export const INITIAL_MEMBER_HEALTH: MemberHealth = Object.freeze({ up: true, probed: false, streak: 0 });

/** Thresholds the state machine needs from a check. */
export interface RiseFall {
  readonly rise: number;
  readonly fall: number;
}

/** Next state after one probe result (a new object; `prev` is not modified). */
export function nextMemberHealth(prev: MemberHealth, result: { readonly ok: boolean }, check: RiseFall): MemberHealth {
  if (!prev.probed) return { up: result.ok, probed: true, streak: result.ok ? 1 : -1 };
  // Cap the streak so a target probed for years keeps a small integer.
  const streak = result.ok ? Math.min(Math.max(prev.streak, 0) + 1, 1_000_000) : Math.max(Math.min(prev.streak, 0) - 1, -1_000_000);
  let up = prev.up;
  if (!up && streak >= Math.max(1, check.rise)) up = true;
  else if (up && -streak >= Math.max(1, check.fall)) up = false;
  return { up, probed: true, streak };
}
