/**
 * Batched UDP I/O (`--io batched`): a UDP socket owned by the optional native module in
 * native/batched-udp (built by `npm install` when a C compiler is present), which reads with
 * recvmmsg and answers with sendmmsg, many datagrams per system call, and hands each batch to the
 * same packet handler dgram sockets use. Nothing is allocated per datagram: the datagrams arrive in
 * slots of one input buffer, each is answered into the same slot of one output buffer, and a view
 * of each (slot, length) is made once. `loadBatchedUdp()` is null when the module was not built
 * (or the platform is not Linux): the server then answers through dgram, as with `--io dgram`.
 */
import { createRequire } from 'node:module';
import type { ListenerCounters, ListenerFaults, PacketHandler } from './listeners.js';

/** The native module's surface (native/batched-udp/batched_udp.c). */
interface NativeBatchedUdp {
  /** INTERFACE_VERSION in the C source: a module built from older source is not used. */
  readonly version?: number;
  readonly batch: number;
  readonly slot: number;
  open(host: string, port: number, family: 4 | 6, reusePort: boolean, onBatch: (count: number) => void, input: Buffer, output: Buffer, meta: Buffer, addresses: Buffer): object;
  port(handle: object): number;
  stats(handle: object, into: Float64Array): void;
  close(handle: object): void;
}

const MODULE_PATH = '../../native/batched-udp/build/Release/batched_udp.node';
const INTERFACE_VERSION = 2;
let loaded: NativeBatchedUdp | null | undefined;

/**
 * The native module, or null when it is not built here (a missing compiler, another OS) or was
 * built from older source (npm install rebuilds it).
 */
export function loadBatchedUdp(): NativeBatchedUdp | null {
  if (loaded === undefined) {
    try {
      const native = createRequire(import.meta.url)(MODULE_PATH) as NativeBatchedUdp;
      loaded = native.version === INTERFACE_VERSION ? native : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** Fields of the meta array per slot (int32). */
const META = 4;
/** Sender texts remembered by their IPv4 value (the same few resolvers ask again and again). */
const PEER_TEXT_ENTRIES = 65_536;

/** System calls and datagrams of one batched socket (stats: what batching bought). */
export interface BatchedUdpStats {
  receiveCalls: number;
  sendCalls: number;
  datagramsIn: number;
  datagramsOut: number;
  sendFailures: number;
  tooLong: number;
}

export class BatchedUdpSocket {
  private closed = false;

  private constructor(
    private readonly native: NativeBatchedUdp,
    private readonly handle: object,
    readonly host: string,
  ) {}

  /**
   * Binds host:port (port 0: any) and answers every datagram through `handler`. Throws when the
   * module is missing or binding fails. `reusePort`: bound with SO_REUSEPORT, so that the other
   * processes of a cluster can bind sockets of their own on the same address (each then gets the
   * flows the kernel hashes to it); every socket of such a group must be opened with it.
   */
  static open(host: string, port: number, handler: PacketHandler, counters: ListenerCounters, faults: ListenerFaults, reusePort = false): BatchedUdpSocket {
    const native = loadBatchedUdp();
    if (native === null) throw new Error('batched UDP I/O is not built here (native/batched-udp)');
    const { batch, slot } = native;
    const input = Buffer.alloc(batch * slot);
    const output = Buffer.alloc(batch * slot);
    const metaBytes = Buffer.alloc(batch * META * 4);
    const meta = new Int32Array(metaBytes.buffer, metaBytes.byteOffset, batch * META);
    const addresses = Buffer.alloc(batch * 16);
    const outputs = Array.from({ length: batch }, (_, i) => output.subarray(i * slot, (i + 1) * slot));
    const views: (Buffer | undefined)[][] = Array.from({ length: batch }, () => []);
    let peers = new Map<number, string>();
    const peerText = (i: number): string => {
      const at = i * 16;
      if (meta[i * META + 3] === 4) {
        const value = addresses.readUInt32BE(at);
        let text = peers.get(value);
        if (text === undefined) {
          text = `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
          if (peers.size >= PEER_TEXT_ENTRIES) peers = new Map();
          peers.set(value, text);
        }
        return text;
      }
      const groups: string[] = [];
      for (let g = 0; g < 16; g += 2) groups.push(addresses.readUInt16BE(at + g).toString(16));
      return groups.join(':');
    };
    const onBatch = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const length = meta[i * META]!;
        meta[i * META + 1] = 0;
        if (length < 0) continue; // longer than a slot: no DNS query is
        counters.udpReceived++;
        const packet = (views[i]![length] ??= input.subarray(i * slot, i * slot + length));
        try {
          meta[i * META + 1] = handler(packet, 'udp', peerText(i), outputs[i]!);
        } catch (error) {
          counters.handlerErrors++;
          faults('handler', error);
        }
      }
    };
    const family = host.includes(':') ? 6 : 4;
    const handle = native.open(host, port, family, reusePort, onBatch, input, output, metaBytes, addresses);
    return new BatchedUdpSocket(native, handle, host);
  }

  /** The bound port. */
  port(): number {
    return this.native.port(this.handle);
  }

  stats(): BatchedUdpStats {
    const values = new Float64Array(6);
    this.native.stats(this.handle, values);
    const [receiveCalls, sendCalls, datagramsIn, datagramsOut, sendFailures, tooLong] = values as unknown as number[];
    return { receiveCalls: receiveCalls!, sendCalls: sendCalls!, datagramsIn: datagramsIn!, datagramsOut: datagramsOut!, sendFailures: sendFailures!, tooLong: tooLong! };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}
