/**
 * Bytes allocated per call of a function, from V8's sampling heap profiler (`HeapProfiler`
 * sampling through node:inspector), counting objects that were already collected again: the
 * profile is then a sample of every allocation, scaled by V8 to an unbiased estimate of the bytes
 * allocated. Deterministic enough to drive by (±2 % between runs at a 64-byte interval), unlike
 * wall-clock figures on a shared machine.
 */
import { Session } from 'node:inspector/promises';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

export interface AllocationSite {
  /** "function file:line" */
  site: string;
  bytesPerCall: number;
}

export interface AllocationFigure {
  bytesPerCall: number;
  /** The sites that allocate the most, per call, largest first. */
  sites: AllocationSite[];
}

function shortUrl(url: string): string {
  const at = url.lastIndexOf('/src/');
  return at >= 0 ? url.slice(at + 1) : url.slice(url.lastIndexOf('/') + 1);
}

/**
 * Runs `body(calls)` under the sampling profiler and divides what it allocated by `calls`.
 * `samplingInterval`: mean bytes between samples (smaller: more exact, slower).
 */
export function bytesAllocatedPerCall(body: (calls: number) => void, calls: number, samplingInterval = 64): Promise<AllocationFigure> {
  return bytesAllocatedPer(async () => {
    body(calls);
    return calls;
  }, samplingInterval);
}

/**
 * Everything this process allocates while `body` runs (its timers and sockets included), divided
 * by the count it resolves with (answers sent, say).
 */
export async function bytesAllocatedPer(body: () => Promise<number>, samplingInterval = 64): Promise<AllocationFigure> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const calls = await body();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SamplingNode } };
    const bySite = new Map<string, number>();
    let total = 0;
    const walk = (node: SamplingNode): void => {
      if (node.selfSize > 0) {
        const frame = node.callFrame;
        const site = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const sites = [...bySite]
      .map(([site, bytes]) => ({ site, bytesPerCall: bytes / calls }))
      .sort((a, b) => b.bytesPerCall - a.bytesPerCall);
    return { bytesPerCall: total / calls, sites };
  } finally {
    await session.post('HeapProfiler.disable').catch(() => undefined);
    session.disconnect();
  }
}
