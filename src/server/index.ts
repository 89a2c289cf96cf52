/**
 * server/: composition. Wires listeners → decode → answer → encode, loads zones and geo data,
 * owns start, reload and stop order. Holds the one ServingState reference the query path reads.
 */
export * from './meridian.js';
export { UDP_IO_CHOICES, type UdpIo, type UdpIoChoice } from './dns-sockets.js';
export * from './handle-packet.js';
export * from './cluster.js';
export { probeTargets } from './zone-index.js';
export type { StatusReport, ZoneFileState } from '../admin/index.js';
export type { ReloadReport } from './zone-loader.js';
