/**
 * Summarise a V8 .cpuprofile (node --cpu-prof): where the non-idle time goes, by area (Meridian's
 * own code, Node's internals, native/V8, GC, each npm package) and by function (self and total
 * time). Also usable on its own: `npx tsx bench/lib/cpu-profile.ts FILE.cpuprofile`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  ms: number;
  /** share of the non-idle time */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  byArea: ProfileEntry[];
  topSelf: ProfileEntry[];
  topTotal: ProfileEntry[];
}

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    if (functionName === '(idle)') return 'idle';
    return 'native bindings / builtins';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? 'internal' : url.slice(5)}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const own = /\/(dist|src)\/(.+)$/.exec(url);
  if (own) return `meridian ${own[2]!.split('/')[0]}/`;
  return url;
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const own = /\/((?:dist|src)\/.+)$/.exec(frame.url);
  const file = own ? own[1]! : frame.url.replace(/^.*\/node_modules\//, '');
  return `${file}:${frame.lineNumber + 1}`;
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const key = (f: CallFrame): string => `${f.functionName || '(anonymous)'}\u0000${where(f)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    const a = area(node.callFrame);
    if (a === 'idle') {
      idle += dt;
      return;
    }
    busy += dt;
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const k = key(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') continue;
      const fk = key(frame);
      if (seen.has(fk)) continue;
      seen.add(fk);
      total.set(fk, (total.get(fk) ?? 0) + dt);
    }
  });
  const entries = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => {
        const [name = '', loc = ''] = k.split('\u0000');
        return { name, where: loc, ms: Math.round(ms), pct: busy > 0 ? (100 * ms) / busy : 0 };
      });
  return {
    file,
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => ({ name, where: '', ms: Math.round(ms), pct: busy > 0 ? (100 * ms) / busy : 0 })),
    topSelf: entries(self, top),
    topTotal: entries(total, top),
  };
}

export function profileMarkdown(s: ProfileSummary): string {
  const rows = (list: ProfileEntry[], withWhere: boolean): string =>
    list.map((e) => `| ${e.pct.toFixed(1)}% | ${e.ms} | \`${e.name}\`${withWhere && e.where ? ` ${e.where}` : ''} |`).join('\n');
  return [
    `Profile \`${path.basename(s.file)}\`: ${s.wallMs} ms wall, ${s.busyMs} ms on CPU in the main thread, ${s.idleMs} ms idle.`,
    '',
    '**By area** (share of on-CPU samples)',
    '',
    '| share | ms | area |',
    '|---:|---:|---|',
    rows(s.byArea.filter((e, i) => i < 12 || e.pct >= 0.5), false),
    '',
    '**Top functions by self time**',
    '',
    '| share | ms | function |',
    '|---:|---:|---|',
    rows(s.topSelf, true),
    '',
    '**Top functions by total time** (self + callees)',
    '',
    '| share | ms | function |',
    '|---:|---:|---|',
    rows(s.topTotal, true),
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: npx tsx bench/lib/cpu-profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(profileMarkdown(summariseProfile(file, Number(process.argv[3] ?? 20))));
}
