/**
 * Zones shared by a fleet, from the command line: `meridian push DIR`, `meridian zones history`
 * and `meridian zones rollback REV`, each against the engine given by --fleet. None needs a
 * running server.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { FleetConnection, parseFleetOptions } from '../fleet/index.js';
import { silentLogger } from '../telemetry/index.js';
import { describeChanges, planRevision, replicasFor, RevisionStore, serialNotes, type CandidateFile, type ZoneRevision } from '../zone-revisions/index.js';
import { checkZonePath } from './check-command.js';
import { processOutput, type CommandOutput } from './command-output.js';

/** How long a command waits for the engine before giving up. */
const CONNECT_WAIT_MS = 10_000;

const FLEET_FLAGS = {
  fleet: { type: 'string' },
  'fleet-creds': { type: 'string' },
  'fleet-ca': { type: 'string' },
} as const;

type FleetFlagValues = { fleet?: string | undefined; 'fleet-creds'?: string | undefined; 'fleet-ca'?: string | undefined };

class CommandError extends Error {}

/** Connects to the engine the flags name, runs `work` with its revision store, and disconnects. */
async function withRevisionStore<T>(values: FleetFlagValues, work: (store: RevisionStore) => Promise<T>): Promise<T> {
  if (values.fleet === undefined) throw new CommandError('--fleet URL is required (the NATS engine the fleet shares)');
  const options = parseFleetOptions({ fleet: values.fleet, creds: values['fleet-creds'], ca: values['fleet-ca'] }, 'meridian-cli')!;
  const fleet = FleetConnection.open(options, silentLogger(), { attemptTimeoutMs: 3000 });
  try {
    let timer: NodeJS.Timeout | undefined;
    const connection = await Promise.race([fleet.whenConnected(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CONNECT_WAIT_MS)))]);
    clearTimeout(timer);
    if (connection === null) {
      throw new CommandError(`cannot reach the NATS engine at ${options.displayUrls.join(',')}${fleet.lastFailure ? ` (${fleet.lastFailure})` : ''}`);
    }
    return await work(await RevisionStore.open(connection, { replicas: replicasFor(options.servers.length) }));
  } finally {
    await fleet.close();
  }
}

function failWith(error: unknown, output: CommandOutput): number {
  output.err(`meridian: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

function printPublished(revision: ZoneRevision, verb: string, before: ZoneRevision | null, output: CommandOutput): void {
  output.out(`revision ${revision.number} ${verb}${revision.message ? `: ${revision.message}` : ''}\n`);
  for (const line of describeChanges(revision.changes)) output.out(`  ${line}\n`);
  for (const note of serialNotes(before, revision)) output.err(`meridian: note: ${note}\n`);
}

/**
 * `meridian push DIR --fleet URL [--message TEXT]`: validates every zone file as `check` does and,
 * only when all are good, publishes them as one new revision.
 */
export async function runPush(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...FLEET_FLAGS, message: { type: 'string', short: 'm' } } });
  if (positionals.length !== 1) {
    output.err('usage: meridian push DIR --fleet URL [--message TEXT]\n');
    return 2;
  }
  const path = positionals[0]!;
  const good = await checkZonePath(path, output);
  if (good === null) {
    output.err('meridian: nothing published: fix the problems above and push again\n');
    return 1;
  }
  const candidates: CandidateFile[] = [];
  for (const { file, source } of good) {
    // What is published must be what was validated: a file edited since is not pushed.
    const text = await readFile(file, 'utf8');
    if (source.contentHash !== createHash('sha256').update(text).digest('hex')) {
      output.err(`meridian: ${file} changed while it was being checked; nothing published, push again\n`);
      return 1;
    }
    candidates.push({ name: basename(file), text, zone: source.origin, explicitSerial: source.soa.serial ?? null, timeSeconds: source.modifiedSeconds ?? Math.floor(Date.now() / 1000) });
  }
  try {
    let before: ZoneRevision | null = null;
    const published = await withRevisionStore(values, (store) =>
      store.publish((previous) => {
        before = previous;
        const next = planRevision(candidates, previous, { number: (previous?.number ?? 0) + 1, createdAt: new Date().toISOString(), message: values.message ?? '' });
        return previous !== null && previous.contentHash === next.contentHash ? null : next;
      }),
    );
    if (published === null) {
      output.out(`no change: revision ${(before as ZoneRevision | null)?.number ?? '?'} already holds these zones; nothing published\n`);
      return 0;
    }
    printPublished(published, 'published', before, output);
    return 0;
  } catch (error) {
    return failWith(error, output);
  }
}

/** `meridian zones history|rollback`. */
export async function runZones(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'history':
      return runHistory(rest, output);
    case 'rollback':
      return runRollback(rest, output);
    default:
      output.err('usage: meridian zones history --fleet URL [--json]\n       meridian zones rollback REV --fleet URL [--message TEXT]\n');
      return 2;
  }
}

async function runHistory(argv: string[], output: CommandOutput): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...FLEET_FLAGS, json: { type: 'boolean', default: false } } });
  let revisions: ZoneRevision[];
  try {
    revisions = await withRevisionStore(values, (store) => store.history());
  } catch (error) {
    return failWith(error, output);
  }
  const newestFirst = revisions.reverse();
  if (values.json) {
    output.out(`${JSON.stringify(newestFirst.map(({ files: _files, ...summary }) => summary), null, 2)}\n`);
    return 0;
  }
  if (newestFirst.length === 0) {
    output.out('no zone revisions yet (meridian push DIR --fleet URL publishes the first)\n');
    return 0;
  }
  for (const revision of newestFirst) {
    const rollback = revision.rollbackOf !== null ? ` (rollback to ${revision.rollbackOf})` : '';
    output.out(`revision ${revision.number}  ${revision.createdAt}  ${revision.message ? JSON.stringify(revision.message) : '(no message)'}${rollback}\n`);
    const changes = describeChanges(revision.changes);
    for (const line of changes.length > 0 ? changes : ['no zone changed']) output.out(`  ${line}\n`);
  }
  return 0;
}

async function runRollback(argv: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...FLEET_FLAGS, message: { type: 'string', short: 'm' } } });
  const wanted = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isInteger(wanted) || wanted < 1) {
    output.err('usage: meridian zones rollback REV --fleet URL [--message TEXT]   (REV: a number from meridian zones history)\n');
    return 2;
  }
  try {
    const published = await withRevisionStore(values, async (store) => {
      const old = (await store.history()).find((revision) => revision.number === wanted);
      if (old === undefined) throw new CommandError(`revision ${wanted} is not kept in the engine (meridian zones history lists those that are)`);
      const now = Math.floor(Date.now() / 1000);
      const candidates: CandidateFile[] = old.files.map(({ modifiedSeconds: _time, ...file }) => ({ ...file, timeSeconds: now }));
      let before: ZoneRevision | null = null;
      const next = await store.publish((previous) => {
        if (previous !== null && previous.contentHash === old.contentHash) throw new CommandError(`revision ${previous.number}, the newest, already holds the zones of revision ${wanted}; nothing published`);
        before = previous;
        const message = values.message ?? `rollback to revision ${wanted}`;
        return planRevision(candidates, previous, { number: (previous?.number ?? 0) + 1, createdAt: new Date().toISOString(), message, rollbackOf: wanted });
      });
      return next === null ? null : { next, before: before as ZoneRevision | null };
    });
    if (published !== null) printPublished(published.next, 'published', published.before, output);
    return 0;
  } catch (error) {
    return failWith(error, output);
  }
}
