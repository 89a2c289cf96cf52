/**
 * zone-revisions/: zones shared by a fleet. A revision is every zone file of a folder taken
 * together (texts, the time each derived serial starts from, a content hash, a message), numbered
 * by the engine; the changes it makes to the revision before it, by zone; its encoding for the
 * engine; its copy on an instance's disk, which is both the cache that lets an instance start
 * while the engine is unreachable and the folder the server loads. Never touches the query path;
 * never writes outside the state folder it is given.
 */
export * from './revision.js';
export * from './revision-cache.js';
export * from './revision-status.js';
export * from './revision-store.js';
export * from './revision-follower.js';
