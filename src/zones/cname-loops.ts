/**
 * In-zone CNAME loops (a → b → a): no answer can end one, so a zone that has one is rejected
 * (`cname-loop`). A target that does not exist but is covered by a wildcard CNAME continues the
 * chain there (`*.x: { CNAME: a.x }` is a loop). Chains that merely run long are served, cut after
 * five CNAMEs as Knot cuts them.
 */
import type { Diagnostic } from './diagnostic.js';

/** A name's CNAME target and where the CNAME sits in the file. */
export interface CnameAt {
  target: string;
  line: number;
  col: number;
}

/** A name member of a pool (answered as a CNAME by the names that route to the pool) and where it sits. */
export interface PoolCnameAt extends CnameAt {
  pool: string;
}

/**
 * Loops through pools of names: a routed name answering a CNAME (from `pool`) whose target leads
 * back to it, itself or through in-zone CNAMEs. One diagnostic per (name, member), at the member.
 */
export function poolCnameLoopDiagnostics(
  file: string,
  routed: readonly { name: string; pools: readonly string[] }[],
  members: readonly PoolCnameAt[],
  cnames: ReadonlyMap<string, CnameAt>,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const { name, pools } of routed) {
    for (const member of members) {
      if (!pools.includes(member.pool)) continue;
      const path = [name, member.target];
      const seen = new Set<string>();
      let at = member.target;
      while (at !== name && !seen.has(at) && cnames.has(at)) {
        seen.add(at);
        at = cnames.get(at)!.target;
        path.push(at);
      }
      if (at !== name) continue;
      diagnostics.push({
        file,
        line: member.line,
        col: member.col,
        code: 'cname-loop',
        message: `CNAME loop ${path.join(' → ')} through pool "${member.pool}": no answer can end it; point the member at a name that does not lead back to ${name}`,
      });
    }
  }
  return diagnostics;
}

/**
 * The wildcard owner `*.E` a missing name is answered from (E its closest encloser among
 * `existing`, RFC 4592 §3.3.1), when that wildcard holds a CNAME; else undefined.
 */
function wildcardCnameFor(name: string, existing: ReadonlySet<string>, cnames: ReadonlyMap<string, CnameAt>): string | undefined {
  for (let at = name.indexOf('.'); at >= 0; at = name.indexOf('.', at + 1)) {
    const ancestor = name.slice(at + 1);
    if (existing.has(ancestor)) return cnames.has(`*.${ancestor}`) ? `*.${ancestor}` : undefined;
  }
  return undefined;
}

/**
 * One diagnostic per loop, at the CNAME of the loop's name that comes first in the file
 * (`cnames` is in file order); names that only lead into a loop are not reported. `existing`:
 * every owner name and its in-zone ancestors, for following targets through wildcards.
 */
export function cnameLoopDiagnostics(file: string, cnames: ReadonlyMap<string, CnameAt>, existing: ReadonlySet<string> = new Set()): Diagnostic[] {
  const order = new Map<string, number>();
  for (const name of cnames.keys()) order.set(name, order.size);
  /** The owner whose CNAME answers `name`: its own, or a wildcard's when the name does not exist. */
  const sourceOf = (name: string): string | undefined => (cnames.has(name) ? name : existing.has(name) ? undefined : wildcardCnameFor(name, existing, cnames));
  const done = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const start of cnames.keys()) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let name: string | undefined = start;
    while (name !== undefined && !done.has(name) && !onPath.has(name)) {
      onPath.set(name, path.length);
      path.push(name);
      const source = sourceOf(name);
      name = source === undefined ? undefined : cnames.get(source)!.target;
    }
    for (const visited of path) done.add(visited);
    if (name === undefined || !onPath.has(name)) continue;
    const loop = path.slice(onPath.get(name));
    const first = loop.reduce((a, b) => (order.get(sourceOf(b)!)! < order.get(sourceOf(a)!)! ? b : a));
    const rotated = [...loop.slice(loop.indexOf(first)), ...loop.slice(0, loop.indexOf(first)), first];
    const shown = rotated.map((step) => (sourceOf(step) === step ? step : `${step} (from ${sourceOf(step)})`));
    const at = cnames.get(sourceOf(first)!)!;
    diagnostics.push({
      file,
      line: at.line,
      col: at.col,
      code: 'cname-loop',
      message: `CNAME loop ${shown.join(' → ')}: no answer can end it; give one name of the chain records instead of a CNAME`,
    });
  }
  return diagnostics;
}
