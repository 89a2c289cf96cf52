/** The geo databases a server answers with, opened and watched, each one loaded said in the log. */
import type { Logger } from '../telemetry/index.js';
import { geoFilesOrEmbedded } from './embedded-database.js';
import { openGeoLocator, type GeoLocatorHandle } from './locate-client.js';

/** `files`: the --geoip files; none opens the bundled country database. */
export async function openServerGeo(files: readonly string[] | undefined, logger: Logger): Promise<GeoLocatorHandle> {
  const geo = await openGeoLocator(geoFilesOrEmbedded(files), { logger });
  for (const info of geo.describe()) {
    logger.info({ file: info.file, kind: info.kind, schema: info.schema, built: info.buildDate }, 'geo database loaded');
  }
  return geo;
}
