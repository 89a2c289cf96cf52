/**
 * The fleet's verdict on one (address, check) from the views of its instances: pure, so every
 * instance holding the same fresh views decides the same.
 */
import type { Quorum } from '../health/index.js';

export interface InstanceView {
  readonly instance: string;
  readonly status: 'up' | 'down';
  /** Wall-clock ms when the instance published it (its own clock). */
  readonly at: number;
  readonly reason: string | null;
  /** The check's interval and timeout: how long the view stays fresh. */
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A view counts while younger than three intervals plus the timeout: a silent instance stops counting. */
export function freshFor(view: Pick<InstanceView, 'intervalMs' | 'timeoutMs'>): number {
  return 3 * view.intervalMs + view.timeoutMs;
}

export function isFresh(view: InstanceView, now: number): boolean {
  return now - view.at < freshFor(view);
}

/** How many up views a quorum needs among `fresh` views (at least one; N is capped at the views there are). */
export function upNeeded(quorum: Quorum, fresh: number): number {
  if (quorum === 'any') return 1;
  if (quorum === 'all') return Math.max(1, fresh);
  if (quorum === 'majority') return Math.floor(fresh / 2) + 1;
  return Math.max(1, Math.min(quorum, fresh));
}

export interface Verdict {
  readonly status: 'up' | 'down';
  readonly up: number;
  readonly fresh: number;
  readonly needed: number;
  /** "quorum majority: 2 of 3 fresh views up (2 needed)" */
  readonly reason: string;
}

export function decide(quorum: Quorum, views: readonly Pick<InstanceView, 'status'>[]): Verdict {
  const up = views.filter((view) => view.status === 'up').length;
  const needed = upNeeded(quorum, views.length);
  const status = up >= needed ? 'up' : 'down';
  return { status, up, fresh: views.length, needed, reason: `quorum ${quorum}: ${up} of ${views.length} fresh views up (${needed} needed)` };
}
