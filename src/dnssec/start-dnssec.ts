/**
 * DNSSEC as a server runs it (--keys): the keeper of the key folder and the zones' signers, told
 * of every health change so that the member sets health now makes possible are signed ahead,
 * off the query path.
 */
import type { HealthView } from '../health/index.js';
import { DnssecKeeper, type DnssecOptions } from './dnssec-keeper.js';

export interface HealthChanges {
  onChange(listener: () => void): unknown;
}

/**
 * `health` is read when a change is told, and whenever a new signer starts (zone loaded, keys
 * changed, renewal): the view answers are routed by at that moment (in a cluster worker, its
 * replica, whose changes runClusterWorker tells the keeper about).
 */
export async function startDnssec(options: DnssecOptions, changes: HealthChanges, health: () => HealthView): Promise<DnssecKeeper> {
  const keeper = await DnssecKeeper.open({ ...options, health });
  changes.onChange(() => keeper.healthChanged());
  return keeper;
}
