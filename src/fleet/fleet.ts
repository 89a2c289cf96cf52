/**
 * The fleet as one server runs it: the connection, opened in the background (an unreachable
 * engine never delays a start), and this instance as a member once its zones are loaded. One
 * close stops both, the member first: it frees its name through the connection.
 */
import type { Logger } from '../telemetry/index.js';
import { FleetConnection } from './connection.js';
import { FleetMember, type FleetMemberOptions } from './fleet-member.js';
import type { FleetOptions } from './fleet-options.js';
import { meridianVersion } from './version.js';

export class Fleet {
  #member: FleetMember | null = null;

  private constructor(readonly connection: FleetConnection) {}

  /** Starts connecting; the first connection is retried by its own timer. */
  static open(options: FleetOptions, logger: Logger): Fleet {
    return new Fleet(FleetConnection.open(options, logger));
  }

  /** This instance as a member, once `join` has returned. */
  get member(): FleetMember | null {
    return this.#member;
  }

  /**
   * Claims this instance's name and starts sharing health views. Done before the sockets are
   * bound: a name another live instance holds refuses the start (InstanceNameTaken).
   */
  async join(options: Omit<FleetMemberOptions, 'connection' | 'version'>): Promise<FleetMember> {
    this.#member = await FleetMember.start({ ...options, connection: this.connection, version: meridianVersion() });
    return this.#member;
  }

  async close(): Promise<void> {
    try {
      await this.#member?.close();
    } finally {
      await this.connection.close();
    }
  }
}
