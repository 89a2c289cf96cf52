/**
 * The differential run: generated zones served by a reference (Knot) and a candidate (Meridian,
 * or NSD to check the reference itself), every generated question sent to both, and every answer
 * that differs in rcode, AA, answer or authority reported with its seed so it can be replayed.
 */
import { parseZoneFile, formatDiagnostic } from '../../src/zones/index.js';
import { query, type Address, type ParsedResponse } from '../support/dns-client.js';
import { startTestServer } from '../support/start-test-server.js';
import { comparable, differingFields, presentAnswer, singleRRsetType, type ComparableAnswer } from './compare-answers.js';
import { generateZone, type GeneratedZone, type Question } from './generate-zone.js';
import { startKnot, startNsd, type PeerServer } from './peer-servers.js';

export type Candidate = 'meridian' | 'nsd';

export interface Difference {
  seed: number;
  question: Question;
  fields: string[];
  candidate: string;
  reference: string;
}

export interface DifftestReport {
  seeds: number;
  questions: number;
  differences: Difference[];
  /** Answers that differ in a way the rules allow (ANY answered with another RRset of the name). */
  allowed: number;
}

export interface DifftestOptions {
  seeds: readonly number[];
  candidate?: Candidate;
  /** Zones served at once by one start of each server. */
  batchSize?: number;
  /** Zones with wildcards (generateZone's `wildcards`). */
  wildcards?: boolean;
  /** Progress lines (a batch done); nothing when absent. */
  progress?: (line: string) => void;
}

const PARALLEL = 24;

async function ask(address: Address, question: Question): Promise<ParsedResponse> {
  const send = (tcp: boolean): Promise<ParsedResponse> => query(address, question.name, question.type, { tcp, edns: { udpSize: 1232 }, timeoutMs: 3000 });
  let reply = await send(false).catch(() => send(false));
  // Truncation depends on name compression, which differs between servers: compare the whole answer.
  if (reply.flags.tc) reply = await send(true);
  return reply;
}

async function startCandidate(candidate: Candidate, zones: readonly GeneratedZone[]): Promise<PeerServer> {
  if (candidate === 'nsd') return startNsd(zones);
  const server = await startTestServer({
    zones: Object.fromEntries(zones.map((zone) => [`${zone.origin}.yaml`, zone.yaml])),
    healthDisabled: true,
    watchZones: false,
  });
  return { name: 'meridian', address: server.v4, close: () => server.close() };
}

/** Zones Meridian would not load are differences of their own (Knot loads them all). */
function rejectedByMeridian(zone: GeneratedZone): Difference | null {
  const result = parseZoneFile(`${zone.origin}.yaml`, zone.yaml);
  if (result.ok) return null;
  return {
    seed: zone.seed,
    question: { name: zone.origin, type: 'SOA', what: 'zone load' },
    fields: ['load'],
    candidate: `rejected the zone:\n${result.diagnostics.map((d) => `    ${formatDiagnostic(d)}`).join('\n')}`,
    reference: 'loaded it',
  };
}

async function compareOne(zone: GeneratedZone, question: Question, candidate: PeerServer, reference: PeerServer, strict: boolean): Promise<Difference | 'allowed' | null> {
  const [ours, theirs] = await Promise.all([ask(candidate.address, question), ask(reference.address, question)]);
  const a = comparable(ours, zone.origin);
  const b = comparable(theirs, zone.origin);
  const fields = differingFields(a, b, strict);
  if (fields.length === 0) return null;
  if (question.type === 'ANY' && fields.length === 1 && fields[0] === 'answer' && (await isOtherRRsetOfName(a, b, question, zone, reference))) return 'allowed';
  return { seed: zone.seed, question, fields, candidate: presentAnswer(a), reference: presentAnswer(b) };
}

/** RFC 8482 §4.1 lets ANY be answered with any one RRset of the name: the one the reference gives for that type. */
async function isOtherRRsetOfName(a: ComparableAnswer, b: ComparableAnswer, question: Question, zone: GeneratedZone, reference: PeerServer): Promise<boolean> {
  const type = singleRRsetType(a);
  if (type === null || singleRRsetType(b) === null) return false;
  const direct = comparable(await ask(reference.address, { ...question, type }), zone.origin);
  return direct.answer.join('\n') === a.answer.join('\n');
}

/**
 * Serves `zones` from Knot and from the candidate at once and asks both every question of each
 * zone, adding what differs to `report`. `strict`: every header flag and the additional section
 * must agree too (hand-written zones whose additional sections Knot and Meridian fill alike).
 */
export async function compareZones(zones: readonly GeneratedZone[], report: DifftestReport, { candidate: candidateName = 'meridian', strict = false }: { candidate?: Candidate; strict?: boolean } = {}): Promise<void> {
  const served: GeneratedZone[] = [];
  for (const zone of zones) {
    const rejected = candidateName === 'meridian' ? rejectedByMeridian(zone) : null;
    if (rejected) report.differences.push(rejected);
    else served.push(zone);
  }
  const reference = await startKnot(served);
  let candidate: PeerServer | undefined;
  try {
    candidate = await startCandidate(candidateName, served);
    for (const zone of served) {
      for (let i = 0; i < zone.questions.length; i += PARALLEL) {
        const results = await Promise.all(zone.questions.slice(i, i + PARALLEL).map((question) => compareOne(zone, question, candidate!, reference, strict)));
        for (const result of results) {
          if (result === 'allowed') report.allowed++;
          else if (result !== null) report.differences.push(result);
        }
      }
      report.questions += zone.questions.length;
    }
  } finally {
    await candidate?.close();
    await reference.close();
  }
}

export async function runDifftest(options: DifftestOptions): Promise<DifftestReport> {
  const batchSize = options.batchSize ?? 20;
  const report: DifftestReport = { seeds: 0, questions: 0, differences: [], allowed: 0 };
  for (let at = 0; at < options.seeds.length; at += batchSize) {
    const zones = options.seeds.slice(at, at + batchSize).map((seed) => generateZone(seed, { wildcards: options.wildcards }));
    await compareZones(zones, report, { candidate: options.candidate });
    report.seeds += zones.length;
    options.progress?.(`${report.seeds}/${options.seeds.length} seeds, ${report.questions} questions, ${report.differences.length} differences`);
  }
  return report;
}

/** One difference as a failure message: the seed, the question, both answers, how to replay it. */
export function presentDifference(d: Difference, candidate: Candidate = 'meridian'): string {
  return [
    `seed ${d.seed}: ${d.question.name}. ${d.question.type} (${d.question.what}) differs in ${d.fields.join(', ')}`,
    `  ${candidate}: ${d.candidate}`,
    `  knot: ${d.reference}`,
    `  replay: npm run difftest -- --seed ${d.seed}${candidate === 'nsd' ? ' --against nsd' : ''}`,
  ].join('\n');
}

/** Differences grouped by what was asked and what differed, most frequent first, with the types asked. */
export function classify(differences: readonly Difference[]): { what: string; count: number; types: string[] }[] {
  const classes = new Map<string, { what: string; count: number; types: string[] }>();
  for (const d of differences) {
    const what = `${d.question.what}: ${d.fields.join('+')}`;
    const found = classes.get(what) ?? { what, count: 0, types: [] };
    found.count++;
    if (!found.types.includes(d.question.type)) found.types.push(d.question.type);
    classes.set(what, found);
  }
  return [...classes.values()].sort((x, y) => y.count - x.count);
}
