/**
 * Batched UDP I/O (`--io auto`, the default, or `--io batched`): a UDP socket owned by the optional native module in
 * native/batched-udp (built by `npm install` when a C compiler is present), which reads with
 * recvmmsg and answers with sendmmsg, many datagrams per system call, and hands each batch to the
 * same packet handler dgram sockets use. Nothing is allocated per datagram: the datagrams arrive in
 * slots of one input buffer, each is answered into the same slot of one output buffer, and a view
 * of each (slot, length) is made once. `loadBatchedUdp()` is null when the module was not built
 * (or the platform is not Linux): the server then answers through dgram.
 */
import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';
import { UDP_RECEIVE_BUFFER_BYTES, type ListenerCounters, type ListenerFaults, type PacketHandler } from './listeners.js';
import { PeerTexts } from './peer-text.js';

/** The native module's surface (native/batched-udp/batched_udp.c). */
interface NativeBatchedUdp {
  /** INTERFACE_VERSION in the C source: a module built from older source is not used. */
  readonly version?: number;
  readonly batch: number;
  readonly slot: number;
  /** `stats`: STATS doubles the module keeps up to date (the fields of STAT). */
  open(host: string, port: number, family: 4 | 6, reusePort: boolean, receiveBufferBytes: number, onBatch: (count: number) => void, input: Buffer, output: Buffer, meta: Buffer, addresses: Buffer, stats: Float64Array): object;
  port(handle: object): number;
  /** SO_RCVBUF as the kernel reports it (twice what it granted, as dgram's getRecvBufferSize()). */
  receiveBufferSize(handle: object): number;
  close(handle: object): void;
}

const MODULE_PATH = '../../native/batched-udp/build/Release/batched_udp.node';
const INTERFACE_VERSION = 4;
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
/** Where each number is in the stats array the module writes (batched_udp.c). */
const STAT = { receiveCalls: 0, sendCalls: 1, datagramsIn: 2, datagramsOut: 3, sendFailures: 4, tooLong: 5, receiveErrors: 6, lastErrno: 7 } as const;
const STATS = 8;

/** System calls and datagrams of one batched socket (stats: what batching bought). */
export interface BatchedUdpStats {
  receiveCalls: number;
  sendCalls: number;
  datagramsIn: number;
  datagramsOut: number;
  sendFailures: number;
  tooLong: number;
  /** recvmmsg failures other than "nothing to read" (and socket errors the loop reported). */
  receiveErrors: number;
}

export class BatchedUdpSocket {
  private closed = false;

  private constructor(
    private readonly native: NativeBatchedUdp,
    private readonly handle: object,
    readonly host: string,
    private readonly numbers: Float64Array,
    /** Counts the socket's send and receive failures into the listener counters (see `open`). */
    readonly settleErrors: () => void,
  ) {}

  /**
   * Binds host:port (port 0: any) and answers every datagram through `handler`. Throws when the
   * module is missing or binding fails (then as dgram does: `code` such as EADDRINUSE, `address`, `port`). `reusePort`: bound with SO_REUSEPORT, so that the other
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
    const peers = new PeerTexts();
    // Over an ArrayBuffer of its own: memory that never moves, which the module writes as it counts
    // (a small typed array made by length may live in V8's heap).
    const numbers = new Float64Array(new ArrayBuffer(STATS * Float64Array.BYTES_PER_ELEMENT));
    // The module counts failed sends and receives; they reach the counters and the fault log as a
    // dgram socket's 'error' events and failed sends do (`sendErrors`, a 'send' fault), at the next
    // batch or when the counters are read, whichever comes first.
    let sendFailuresSeen = 0;
    let receiveErrorsSeen = 0;
    const settleErrors = (): void => {
      const sendFailures = numbers[STAT.sendFailures]!;
      const receiveErrors = numbers[STAT.receiveErrors]!;
      if (sendFailures === sendFailuresSeen && receiveErrors === receiveErrorsSeen) return;
      counters.sendErrors += sendFailures - sendFailuresSeen + (receiveErrors - receiveErrorsSeen);
      const call = sendFailures !== sendFailuresSeen ? 'sendmmsg' : 'recvmmsg';
      sendFailuresSeen = sendFailures;
      receiveErrorsSeen = receiveErrors;
      const errno = numbers[STAT.lastErrno]!;
      const code = errno > 0 ? getSystemErrorName(-errno) : 'unknown error';
      faults('send', Object.assign(new Error(`${call} ${code}`), { code, syscall: call }));
    };
    const onBatch = (count: number): void => {
      settleErrors();
      for (let i = 0; i < count; i++) {
        const length = meta[i * META]!;
        meta[i * META + 1] = 0;
        counters.udpReceived++;
        if (length < 0) {
          // Longer than a slot (no DNS query is): read cut short, so dropped unanswered.
          counters.udpTooLong++;
          continue;
        }
        const packet = (views[i]![length] ??= input.subarray(i * slot, i * slot + length));
        try {
          meta[i * META + 1] = handler(packet, 'udp', peers.text(addresses, i * 16, meta[i * META + 3] === 4 ? 4 : 6), outputs[i]!);
        } catch (error) {
          counters.handlerErrors++;
          faults('handler', error);
        }
      }
    };
    const family = host.includes(':') ? 6 : 4;
    let handle: object;
    try {
      handle = native.open(host, port, family, reusePort, UDP_RECEIVE_BUFFER_BYTES, onBatch, input, output, metaBytes, addresses, numbers);
    } catch (error) {
      // As dgram's bind errors carry them (the CLI words EADDRINUSE and friends with the address).
      throw Object.assign(error as Error, { address: host, port });
    }
    return new BatchedUdpSocket(native, handle, host, numbers, settleErrors);
  }

  /** The bound port. */
  port(): number {
    return this.native.port(this.handle);
  }

  stats(): BatchedUdpStats {
    const n = this.numbers;
    return {
      receiveCalls: n[STAT.receiveCalls]!,
      sendCalls: n[STAT.sendCalls]!,
      datagramsIn: n[STAT.datagramsIn]!,
      datagramsOut: n[STAT.datagramsOut]!,
      sendFailures: n[STAT.sendFailures]!,
      tooLong: n[STAT.tooLong]!,
      receiveErrors: n[STAT.receiveErrors]!,
    };
  }

  /** SO_RCVBUF as the kernel reports it: twice what it granted, as dgram's `getRecvBufferSize()`. */
  receiveBufferSize(): number {
    return this.native.receiveBufferSize(this.handle);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}
