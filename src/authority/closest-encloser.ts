/**
 * authority/closest-encloser: which wildcard answers a name the zone does not hold (RFC 4592
 * §3.3.1). The closest encloser is the name's longest ancestor that exists, empty non-terminals
 * included; its `*` child, when it has one, is the source of synthesis, and otherwise the name
 * does not exist. An existing name therefore blocks every wildcard above it, and a wildcard never
 * answers for its own parent (the parent exists). Runs on the query path, only for names with no
 * node, and only in zones that have a wildcard: one slice per label it climbs, nothing else.
 */
import type { CompiledNode, CompiledZone } from '../zones/index.js';

/** The wildcard node answering `name`, which has no node of its own in `zone`; null when none does (NXDOMAIN). */
export function wildcardFor(zone: Pick<CompiledZone, 'nodes' | 'wildcards'>, name: string): CompiledNode | null {
  if (zone.wildcards.size === 0) return null;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    const ancestor = name.slice(dot + 1);
    if (zone.nodes.has(ancestor)) return zone.wildcards.get(ancestor) ?? null;
  }
  return null;
}
