/**
 * authority/: what one zone holds at a name, as the answer rules ask for it (the `Authority`
 * contract), its implementation over a compiled zone with routing, and the `ServingState` that
 * carries an authority per zone. Synchronous and free of I/O on the query path; it keeps no
 * module state: each authority owns its routing cache and dies with the serving state.
 */
export * from './authority.js';
export * from './zone-authority.js';
export * from './serving-state.js';
export { wildcardFor } from './closest-encloser.js';
