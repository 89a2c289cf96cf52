/**
 * `--zones-from-fleet`: the first load comes from the revision follower's starting folder (the
 * cached revision, the engine's newest, or an empty folder); a starting revision that does not
 * load whole is refused and the server starts with no zones rather than part of it. Then the
 * follower feeds every new revision to the loader.
 */
import type { FleetConnection } from '../fleet/index.js';
import type { Logger } from '../telemetry/index.js';
import { RevisionFollower, RevisionRejectedError } from '../zone-revisions/index.js';
import { bootZoneParser } from './read-zones-off-thread.js';
import type { ZoneLoader } from './zone-loader.js';

/** The follower of the fleet's zone revisions, with --zones-from-fleet on a primary connected to the fleet; else null. */
export function followFleetZones(
  options: { zonesFromFleet?: boolean; stateDir?: string; onZonesSwitched?: (folder: string) => void },
  fleet: FleetConnection | null,
  loader: ZoneLoader,
  logger: Logger,
): RevisionFollower | null {
  if (!options.zonesFromFleet || fleet === null) return null;
  if (options.stateDir === undefined) throw new Error('--zones-from-fleet needs --state-dir DIR (the last revision served is kept there)');
  return new RevisionFollower({
    stateDir: options.stateDir,
    fleet,
    load: async (folder) => {
      await loader.switchTo(folder);
      options.onZonesSwitched?.(folder);
    },
    prepare: bootZoneParser,
    logger,
  });
}

export async function startZones(loader: ZoneLoader, follower: RevisionFollower | null): Promise<void> {
  if (follower === null) return loader.start();
  const folder = await follower.startingFolder();
  try {
    await loader.start(folder);
    await follower.started();
  } catch (error) {
    if (!(error instanceof RevisionRejectedError)) throw error;
    await loader.start(await follower.startRefused(error));
  }
  follower.follow();
}
