/**
 * `--zones-from-fleet`: the first load comes from the revision follower's starting folder (the
 * cached revision, the engine's newest, or an empty folder); a starting revision that does not
 * load whole is refused and the server starts with no zones rather than part of it. Then the
 * follower feeds every new revision to the loader.
 */
import { RevisionRejectedError, type RevisionFollower } from '../zone-revisions/index.js';
import type { ZoneLoader } from './zone-loader.js';

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
