/**
 * admin/: the operator's HTTP window — Prometheus metrics, JSON status (and assembling it),
 * liveness/readiness and member overrides. Reads views handed to it; never touches the query path
 * or zone files.
 */
export * from './admin-server.js';
export * from './status-report.js';
