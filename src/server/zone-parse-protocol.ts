/** Messages from the zone-parsing worker to the server. */
import type { FileLoad, NameSource, ZoneSource } from '../zones/index.js';

export type ZoneParseMessage =
  | { kind: 'failed'; load: FileLoad }
  | { kind: 'zone'; file: string; source: ZoneSource }
  | { kind: 'names'; file: string; names: NameSource[] }
  | { kind: 'done' }
  | { kind: 'fatal'; message: string };
