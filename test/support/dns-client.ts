/**
 * The end-to-end tests' DNS client: UDP and TCP transports on top of the src/wire message codec
 * (`encodeQuery`, `decodeMessage` with the record types' presentation from src/records), plus what only tests need: queries made malformed on purpose
 * (count overrides, extra questions, trailing bytes, an OPT with a bad owner or RDLENGTH), and
 * answers as sorted dig-style lines. The format itself lives in src/wire only; where a test must
 * not trust it, the test asks `dig` (a peer) as well.
 */
import { createSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { presentRData } from '../../src/records/index.js';
import {
  clientSubnetOption,
  decodeMessage,
  EdnsOption,
  encodeOptRecord,
  encodeQuery,
  encodeQuestion,
  formatRecord,
  Opcode,
  tcpFrame,
  type DecodedMessage,
  type DecodedRecord,
  type HeaderFlagsSpec,
  type QueryEdns,
} from '../../src/wire/index.js';

export { encodeName, formatRecord, tcpFrame as frame } from '../../src/wire/index.js';
export type { DecodedMessage as ParsedResponse, DecodedOpt as ParsedOpt } from '../../src/wire/index.js';

export interface Address {
  host: string;
  port: number;
}

export const OPCODES = Opcode;
export const EDNS_NSID = EdnsOption.NSID;
export const EDNS_ECS = EdnsOption.CLIENT_SUBNET;
export const EDNS_COOKIE = EdnsOption.COOKIE;

/** Decodes a response strictly (MessageFormatError on anything malformed), records in dig's text. */
export function parseResponse(message: Buffer): DecodedMessage {
  return decodeMessage(message, presentRData);
}

/** The ECS option data for "addr/prefix" (RFC 7871 §6), with a scope for tests that send one. */
export function ecsOptionData(subnet: string, scope = 0): Buffer {
  return clientSubnetOption(subnet, scope).data;
}

// ---- building queries, malformed ones included ----------------------------------------------

export interface EdnsQueryOptions extends QueryEdns {
  /** The OPT record's owner name bytes (default the root, one zero byte). */
  ownerBytes?: Buffer;
  /** Overrides the OPT RDLENGTH. */
  rdlength?: number;
}

export interface QueryOptions {
  id?: number;
  /** Header flags; rd defaults to false (as `dig +norec`). A number is the raw flags word. */
  flags?: HeaderFlagsSpec | number;
  qclass?: number;
  /** An OPT record (EDNS0), or none when absent/false. */
  edns?: EdnsQueryOptions | false;
  /** Count overrides written into the header regardless of the sections actually present. */
  qdcount?: number;
  ancount?: number;
  nscount?: number;
  arcount?: number;
  /** Additional questions written after the first (for QDCOUNT tests). */
  extraQuestions?: { name: string; type: string | number }[];
  /** Bytes appended at the very end. */
  trailing?: Buffer;
}

let nextId = Math.floor(Math.random() * 0xffff);
function freshId(): number {
  nextId = (nextId + 1) & 0xffff;
  return nextId;
}

/** The OPT record for the given settings, with its owner or RDLENGTH replaced if asked. */
export function encodeOpt(edns: EdnsQueryOptions): Buffer {
  const opt = encodeOptRecord(edns);
  if (edns.rdlength !== undefined) opt.writeUInt16BE(edns.rdlength, 9);
  return edns.ownerBytes === undefined ? opt : Buffer.concat([edns.ownerBytes, opt.subarray(1)]);
}

/** Builds a query message with the codec, then applies the overrides that make it malformed. */
export function buildQuery(options: QueryOptions & { name: string; type: string | number }): Buffer {
  const qclass = options.qclass ?? 1;
  const base = encodeQuery({ id: options.id ?? freshId(), name: options.name, type: options.type, qclass, flags: options.flags });
  const extra = (options.extraQuestions ?? []).map((q) => encodeQuestion(q.name, q.type, qclass));
  const opt = options.edns ? [encodeOpt(options.edns)] : [];
  const message = Buffer.concat([base, ...extra, ...opt, options.trailing ?? Buffer.alloc(0)]);
  message.writeUInt16BE(options.qdcount ?? 1 + extra.length, 4);
  message.writeUInt16BE(options.ancount ?? 0, 6);
  message.writeUInt16BE(options.nscount ?? 0, 8);
  message.writeUInt16BE(options.arcount ?? opt.length, 10);
  return message;
}

export function formatSection(records: readonly DecodedRecord[]): string[] {
  return records.map(formatRecord);
}

/** Sorted presentation lines of a section: for answers whose order is random. */
export function sortedLines(records: readonly DecodedRecord[]): string[] {
  return formatSection(records).sort();
}

// ---- transports ----------------------------------------------------------------------------

function family(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

/**
 * Sends one datagram and waits for the first reply (from the server's address and port).
 * Rejects after `timeoutMs` without one.
 */
export function sendUdp(address: Address, message: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return sendUdpMaybe(address, message, timeoutMs).then((reply) => {
    if (reply === null) throw new Error(`no UDP reply from ${address.host}:${address.port} within ${timeoutMs} ms`);
    return reply;
  });
}

/** Like sendUdp, but resolves null when nothing comes back within `waitMs` (for "is dropped" tests). */
export function sendUdpMaybe(address: Address, message: Buffer, waitMs = 500): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(family(address.host));
    let settled = false;
    const finish = (value: Buffer | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(null), waitMs);
    socket.on('message', (reply, remote) => {
      if (remote.port === address.port) finish(reply);
    });
    socket.on('error', (error) => finish(null, error));
    socket.send(message, address.port, address.host, (error) => {
      if (error) finish(null, error);
    });
  });
}

/**
 * One TCP connection that reads length-framed messages. `next()` resolves with the next
 * whole message; `closed` resolves when the peer (or we) closed the connection.
 */
export class TcpConnection {
  private pending = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private waiters: { resolve: (m: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  /** True once the connection has closed, whoever closed it. */
  isClosed = false;
  readonly closed: Promise<void>;
  /** Raw bytes received (for framing checks). */
  readonly received: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error('connection closed before a reply'));
        }
        resolve();
      });
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 2) {
        const length = this.pending.readUInt16BE(0);
        if (this.pending.length < 2 + length) break;
        const message = Buffer.from(this.pending.subarray(2, 2 + length));
        this.pending = this.pending.subarray(2 + length);
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          waiter.resolve(message);
        } else this.messages.push(message);
      }
    });
  }

  /** Connects (from `localAddress`, when given); rejects when the connection cannot be made within `timeoutMs`. */
  static open(address: Address, timeoutMs = 2000, localAddress?: string): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port, noDelay: true, localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to ${address.host}:${address.port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Writes raw bytes (no framing added). */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error('connection is closed'));
        return;
      }
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Writes each message with its length prefix, all in one write (pipelining). */
  send(...messages: Buffer[]): Promise<void> {
    return this.write(Buffer.concat(messages.map(tcpFrame)));
  }

  /** The next whole message, or a rejection after `timeoutMs` or on close. */
  next(timeoutMs = 2000): Promise<Buffer> {
    const ready = this.messages.shift();
    if (ready) return Promise.resolve(ready);
    if (this.isClosed) return Promise.reject(new Error('connection closed before a reply'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no TCP reply within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves true when the connection closes within `timeoutMs`, else false. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface SendTcpOptions {
  timeoutMs?: number;
  /** Write the stream in pieces of this many bytes (1 = byte by byte), pausing `pauseMs` between. */
  chunkSize?: number;
  pauseMs?: number;
}

/**
 * Sends several queries on one connection (pipelined in one write unless chunkSize is set) and
 * returns the replies in the order they arrived.
 */
export async function sendTcp(address: Address, messages: Buffer[], options: SendTcpOptions = {}): Promise<Buffer[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const connection = await TcpConnection.open(address, timeoutMs);
  try {
    const stream = Buffer.concat(messages.map(tcpFrame));
    if (options.chunkSize === undefined) await connection.write(stream);
    else {
      for (let offset = 0; offset < stream.length; offset += options.chunkSize) {
        await connection.write(stream.subarray(offset, offset + options.chunkSize));
        if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
    const replies: Buffer[] = [];
    for (let i = 0; i < messages.length; i++) replies.push(await connection.next(timeoutMs));
    return replies;
  } finally {
    connection.close();
  }
}

export interface QueryCallOptions extends QueryOptions {
  tcp?: boolean;
  timeoutMs?: number;
}

/** Builds a query, sends it over UDP (or TCP), and parses the reply. Checks the ID matches. */
export async function query(address: Address, name: string, type: string | number, options: QueryCallOptions = {}): Promise<DecodedMessage> {
  const id = options.id ?? freshId();
  const message = buildQuery({ ...options, id, name, type });
  const raw = options.tcp ? (await sendTcp(address, [message], { timeoutMs: options.timeoutMs }))[0]! : await sendUdp(address, message, options.timeoutMs);
  const response = parseResponse(raw);
  if (response.id !== id) throw new Error(`reply ID ${response.id} does not match query ID ${id}`);
  return response;
}
