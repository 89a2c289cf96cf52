/**
 * In-zone CNAME loops (a → b → a): no answer can end one, so a zone that has one is rejected
 * (`cname-loop`). Chains that merely run long are served, cut after five CNAMEs as Knot cuts them.
 */
import type { Diagnostic } from './diagnostic.js';

/** A name's CNAME target and where the CNAME sits in the file. */
export interface CnameAt {
  target: string;
  line: number;
  col: number;
}

/**
 * One diagnostic per loop, at the CNAME of the loop's name that comes first in the file
 * (`cnames` is in file order); names that only lead into a loop are not reported.
 */
export function cnameLoopDiagnostics(file: string, cnames: ReadonlyMap<string, CnameAt>): Diagnostic[] {
  const order = new Map<string, number>();
  for (const name of cnames.keys()) order.set(name, order.size);
  const done = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const start of cnames.keys()) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let name: string | undefined = start;
    while (name !== undefined && !done.has(name) && !onPath.has(name)) {
      onPath.set(name, path.length);
      path.push(name);
      name = cnames.get(name)?.target;
    }
    for (const visited of path) done.add(visited);
    if (name === undefined || !onPath.has(name)) continue;
    const loop = path.slice(onPath.get(name));
    const first = loop.reduce((a, b) => (order.get(b)! < order.get(a)! ? b : a));
    const rotated = [...loop.slice(loop.indexOf(first)), ...loop.slice(0, loop.indexOf(first)), first];
    const at = cnames.get(first)!;
    diagnostics.push({
      file,
      line: at.line,
      col: at.col,
      code: 'cname-loop',
      message: `CNAME loop ${rotated.join(' → ')}: no answer can end it; give one name of the chain records instead of a CNAME`,
    });
  }
  return diagnostics;
}
