/**
 * `--query-log`: one JSON line for every Nth query, to a file or stdout, written asynchronously
 * by pino (the query path only fills a buffer). Closing writes out what is buffered.
 */
import pino from 'pino';
import type { Answer } from '../answer/index.js';
import { rcodeName, rrTypeName, type Query } from '../wire/index.js';

export class QueryLog {
  private readonly logger: pino.Logger;
  private stream: ReturnType<typeof pino.destination> | null;
  private readonly sampleEvery: number;
  private countdown: number;

  /** `destination`: a file (its folder is created) or "-" for stdout. */
  constructor(settings: { destination: string; sampleEvery: number }) {
    this.stream = pino.destination({ dest: settings.destination === '-' ? 1 : settings.destination, sync: false, mkdir: true });
    this.logger = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, this.stream);
    this.sampleEvery = Math.max(1, settings.sampleEvery);
    this.countdown = this.sampleEvery;
  }

  /** Called for every answered query; writes a line for one in `sampleEvery`. */
  record(query: Query, peer: string, answer: Answer): void {
    if (--this.countdown > 0) return;
    this.countdown = this.sampleEvery;
    const subnet = query.edns?.clientSubnet;
    const decision = answer.decision;
    this.logger.info({
      client: peer,
      ecs: subnet ? `${subnet.address}/${subnet.sourcePrefix}` : undefined,
      name: query.lowerName,
      type: rrTypeName(query.type),
      transport: query.transport,
      rcode: rcodeName(answer.rcode),
      zone: answer.zone?.origin,
      pool: decision?.pool ?? undefined,
      rule: decision ? (decision.ruleKey ? `${decision.rule} ${decision.ruleKey}` : decision.rule) : undefined,
      outcome: decision?.outcome,
      scope: subnet ? answer.ecsScope : undefined,
    });
  }

  /** Writes out what is buffered and closes the file (stdout stays open). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const stream = this.stream;
      this.stream = null;
      if (stream === null) return resolve();
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
      stream.end();
    });
  }
}
