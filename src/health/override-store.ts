/**
 * health/override-store: the operator overrides (up, down, drained per answered address) and the
 * JSON state file that keeps them across restarts. A change is written to the state file first
 * and applied only once the write succeeded: a failed write changes nothing and rejects with the
 * reason, so an override is in force exactly when the file (if there is one) says so.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { canonicalAddress } from './check-spec.js';
import type { OverrideLookup, OverrideState } from './health-state.js';
import { errorReason } from './probes/probe.js';

const STATE_FILE_VERSION = 1;
const OVERRIDE_STATES: ReadonlySet<string> = new Set(['up', 'down', 'drained']);

/** An override that has just been applied. */
export interface AppliedOverride {
  /** The canonical address. */
  readonly address: string;
  readonly previous: OverrideState | null;
  readonly state: OverrideState | null;
}

export class OverrideStore implements OverrideLookup {
  private readonly current = new Map<string, OverrideState>();
  /** Changes run one after another: each writes the overrides as they are when it starts, plus itself. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Loads the overrides from `stateFile` (synchronously; a missing file is empty, a corrupt one
   * throws). `onApplied` is called in the same turn an override takes effect.
   */
  constructor(
    private readonly stateFile: string | undefined,
    private readonly onApplied: (change: AppliedOverride) => void = () => undefined,
  ) {
    if (stateFile !== undefined) this.load(stateFile);
  }

  /** The override of a canonical address; one Map lookup. */
  get(address: string): OverrideState | undefined {
    return this.current.get(address);
  }

  get size(): number {
    return this.current.size;
  }

  /** The overrides in force, as (canonical address, state) pairs. */
  entries(): IterableIterator<[string, OverrideState]> {
    return this.current.entries();
  }

  /**
   * Forces a member (by answered address, any spelling) up, down or drained, or clears its
   * override with null. Resolves once the state file holds the change and it is in force (with
   * null when it was already so: nothing is written); rejects, changing nothing, on a bad address
   * or state or when the state file cannot be written.
   */
  set(address: string, state: OverrideState | null): Promise<AppliedOverride | null> {
    const canonical = canonicalAddress(address);
    if (canonical === null) return Promise.reject(new TypeError(`not an IP address: ${JSON.stringify(address)}`));
    if (state !== null && !OVERRIDE_STATES.has(state)) return Promise.reject(new TypeError(`bad override state: ${String(state)}`));
    const change = this.queue.then(() => this.apply(canonical, state));
    this.queue = change.catch(() => undefined);
    return change;
  }

  /** Resolves when every change asked for so far has been written (or has failed). */
  async settled(): Promise<void> {
    await this.queue;
  }

  private async apply(address: string, state: OverrideState | null): Promise<AppliedOverride | null> {
    const previous = this.current.get(address) ?? null;
    if (previous === state) return null;
    if (this.stateFile !== undefined) {
      const next = new Map(this.current);
      if (state === null) next.delete(address);
      else next.set(address, state);
      try {
        await writeStateFile(this.stateFile, next);
      } catch (err) {
        throw new Error(`cannot write health state file ${this.stateFile}: ${errorReason(err)}; the override was not changed`);
      }
    }
    if (state === null) this.current.delete(address);
    else this.current.set(address, state);
    const applied = { address, previous, state };
    this.onApplied(applied);
    return applied;
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return;
      throw err;
    }
    // A corrupt file is fatal: silently dropping a forced `down` would put a member back in service.
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`health state file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const overrides = (data as { overrides?: unknown } | null)?.overrides;
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new Error(`health state file ${file}: no "overrides" object`);
    }
    for (const [address, state] of Object.entries(overrides)) {
      const canonical = canonicalAddress(address);
      if (canonical === null || typeof state !== 'string' || !OVERRIDE_STATES.has(state)) {
        throw new Error(`health state file ${file}: bad override ${JSON.stringify(address)}: ${JSON.stringify(state)}`);
      }
      this.current.set(canonical, state as OverrideState);
    }
  }
}

/** Replaces the state file atomically: a temp file beside it, fsync, rename. */
async function writeStateFile(file: string, overrides: ReadonlyMap<string, OverrideState>): Promise<void> {
  const sorted: Record<string, OverrideState> = {};
  for (const address of [...overrides.keys()].sort()) sorted[address] = overrides.get(address)!;
  const text = `${JSON.stringify({ version: STATE_FILE_VERSION, overrides: sorted }, null, 2)}\n`;
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      // fsync before rename, so a crash leaves the old file or the new one, never an empty one.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
