/**
 * A small MaxMind DB (.mmdb) writer for test fixtures. No npm package writes mmdb files, and
 * tests must not depend on downloaded databases, so fixtures are generated here.
 *
 * Follows the "MaxMind DB File Format Specification" v2.0: a binary search tree over 128 bits
 * (IPv4 networks live at ::a.b.c.d, i.e. under ::/96) or 32 bits, a 16-byte zero separator, a
 * data section, then the `\xab\xcd\xefMaxMind.com` marker and the metadata map.
 */

/** A value stored in the data section; plain numbers are encoded as uint32 / int32 / double by value. */
export type MmdbValue =
  | string
  | number
  | bigint
  | boolean
  | MmdbTyped
  | readonly MmdbValue[]
  | { readonly [key: string]: MmdbValue };

type TypedKind = 'uint16' | 'uint32' | 'uint64' | 'uint128' | 'int32' | 'double' | 'float' | 'bytes';

/** A value whose MaxMind DB type is forced rather than inferred from the JavaScript value. */
export class MmdbTyped {
  constructor(
    readonly kind: TypedKind,
    readonly value: number | bigint | Uint8Array,
  ) {}
}

/** Forces a uint16 field (e.g. metadata record_size). */
export const uint16 = (value: number): MmdbTyped => new MmdbTyped('uint16', value);
/** Forces a uint32 field. */
export const uint32 = (value: number): MmdbTyped => new MmdbTyped('uint32', value);
/** Forces a uint64 field. */
export const uint64 = (value: number | bigint): MmdbTyped => new MmdbTyped('uint64', BigInt(value));
/** Forces a uint128 field. */
export const uint128 = (value: bigint): MmdbTyped => new MmdbTyped('uint128', value);
/** Forces an int32 field. */
export const int32 = (value: number): MmdbTyped => new MmdbTyped('int32', value);
/** Forces a double, so whole numbers such as latitude 51 stay doubles. */
export const double = (value: number): MmdbTyped => new MmdbTyped('double', value);
/** Forces a 32-bit float. */
export const float = (value: number): MmdbTyped => new MmdbTyped('float', value);
/** A raw bytes field. */
export const bytes = (value: Uint8Array): MmdbTyped => new MmdbTyped('bytes', value);

/** One network of the database and the record it maps to. */
export interface MmdbNetwork {
  readonly cidr: string;
  readonly data: MmdbValue;
}

/** Everything `writeMmdb` needs; only databaseType and networks are required. */
export interface MmdbWriteOptions {
  readonly databaseType: string;
  readonly networks: readonly MmdbNetwork[];
  /** 24, 28 or 32; the smallest that fits when left out. */
  readonly recordSize?: 24 | 28 | 32;
  /** 6 (default: IPv4 placed at ::/96) or 4 (IPv4-only tree, 32 bits deep). */
  readonly ipVersion?: 4 | 6;
  readonly languages?: readonly string[];
  readonly description?: Readonly<Record<string, string>>;
  /** Seconds since the epoch; defaults to now. */
  readonly buildEpoch?: number;
  /** Encode repeated strings, maps and arrays as pointers to their first copy (default true). */
  readonly usePointers?: boolean;
}

// Data section type numbers from the spec; types above 7 use the "extended" form.
const T_POINTER = 1;
const T_UTF8 = 2;
const T_DOUBLE = 3;
const T_BYTES = 4;
const T_UINT16 = 5;
const T_UINT32 = 6;
const T_MAP = 7;
const T_INT32 = 8;
const T_UINT64 = 9;
const T_UINT128 = 10;
const T_ARRAY = 11;
const T_BOOLEAN = 14;
const T_FLOAT = 15;

const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com', 'ascii')]);
const DATA_SECTION_SEPARATOR = 16;

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; throws on anything else. */
export function parseIp(text: string): Uint8Array {
  if (!text.includes(':')) return parseIpv4(text);
  let head = text;
  let tailV4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address: ${text}`);
  const groups = (part: string | undefined): number[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').map((g) => {
          if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new Error(`bad IPv6 address: ${text}`);
          return parseInt(g, 16);
        });
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw new Error(`bad IPv6 address: ${text}`);
  const all = [...left, ...new Array<number>(missing).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  return out;
}

function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new Error(`bad IPv4 address: ${text}`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** Parses a CIDR into the bit path of the tree (`treeBits` deep) and its prefix length there. */
function cidrToTreePath(cidr: string, treeBits: 32 | 128): { bytes: Uint8Array; prefix: number } {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`not a CIDR: ${cidr}`);
  const addr = parseIp(cidr.slice(0, slash));
  const prefixText = cidr.slice(slash + 1);
  const maxPrefix = addr.length * 8;
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) throw new Error(`bad prefix length: ${cidr}`);
  for (let bit = prefix; bit < maxPrefix; bit++) {
    if (bitAt(addr, bit)) throw new Error(`host bits set in ${cidr}`);
  }
  if (treeBits === 32) {
    if (addr.length !== 4) throw new Error(`IPv6 network ${cidr} in an IPv4-only database`);
    return { bytes: addr, prefix };
  }
  if (addr.length === 16) return { bytes: addr, prefix };
  // IPv4 in an IPv6 tree: ::a.b.c.d, so an IPv4 /n is an IPv6 /(96+n).
  const bytes = new Uint8Array(16);
  bytes.set(addr, 12);
  return { bytes, prefix: 96 + prefix };
}

function bitAt(bytes: Uint8Array, bit: number): number {
  return ((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1;
}

// ---------------------------------------------------------------------------------------------
// Data section encoding

class DataWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  // Canonical key of a value -> offset of its first (non-pointer) encoding.
  private readonly seen = new Map<string, number>();

  constructor(private readonly usePointers: boolean) {}

  get size(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  /** Writes a value (or a pointer to an identical earlier one) and returns its offset. */
  write(value: MmdbValue): number {
    const key = canonicalKey(value);
    const earlier = this.seen.get(key);
    if (earlier !== undefined) return earlier;
    const offset = this.writeValue(value, key);
    return offset;
  }

  private push(buf: Buffer): void {
    this.chunks.push(buf);
    this.length += buf.length;
  }

  private writeValue(value: MmdbValue, key: string): number {
    const offset = this.length;
    if (typeof value === 'string') {
      const body = Buffer.from(value, 'utf8');
      this.push(Buffer.concat([control(T_UTF8, body.length), body]));
    } else if (typeof value === 'boolean') {
      this.push(control(T_BOOLEAN, value ? 1 : 0));
    } else if (typeof value === 'bigint') {
      this.writeUnsigned(value < 1n << 64n ? T_UINT64 : T_UINT128, value);
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) this.writeUnsigned(T_UINT32, BigInt(value));
      else if (Number.isInteger(value) && value >= -0x80000000 && value < 0) this.writeInt32(value);
      else this.writeDouble(value);
    } else if (value instanceof MmdbTyped) {
      this.writeTyped(value);
    } else if (Array.isArray(value)) {
      const items = value as readonly MmdbValue[];
      this.push(control(T_ARRAY, items.length));
      for (const item of items) this.writeNested(item);
    } else {
      const entries = Object.entries(value as { readonly [k: string]: MmdbValue });
      this.push(control(T_MAP, entries.length));
      for (const [k, v] of entries) {
        this.writeNested(k);
        this.writeNested(v);
      }
    }
    // Registered only once complete, so a value never points into itself.
    this.seen.set(key, offset);
    return offset;
  }

  // Inside maps and arrays a repeated value becomes a pointer (when enabled).
  private writeNested(value: MmdbValue): void {
    const key = canonicalKey(value);
    const earlier = this.usePointers ? this.seen.get(key) : undefined;
    if (earlier !== undefined && pointerSize(earlier) < this.encodedSizeHint(value)) {
      this.push(pointer(earlier));
      return;
    }
    this.writeValue(value, key);
  }

  // A pointer is only worth it when it is shorter than the value; small scalars stay inline.
  private encodedSizeHint(value: MmdbValue): number {
    if (typeof value === 'string') return Buffer.byteLength(value, 'utf8') + 1;
    if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') return 1;
    if (value instanceof MmdbTyped) return 1;
    return Number.MAX_SAFE_INTEGER;
  }

  private writeTyped(value: MmdbTyped): void {
    const v = value.value;
    switch (value.kind) {
      case 'uint16':
      case 'uint32':
      case 'uint64':
      case 'uint128': {
        const n = typeof v === 'bigint' ? v : BigInt(v as number);
        const limit = { uint16: 16n, uint32: 32n, uint64: 64n, uint128: 128n }[value.kind];
        if (n < 0n || n >= 1n << limit) throw new Error(`${String(n)} does not fit ${value.kind}`);
        const type = { uint16: T_UINT16, uint32: T_UINT32, uint64: T_UINT64, uint128: T_UINT128 }[value.kind];
        this.writeUnsigned(type, n);
        return;
      }
      case 'int32':
        this.writeInt32(Number(v));
        return;
      case 'double':
        this.writeDouble(Number(v));
        return;
      case 'float': {
        const body = Buffer.alloc(4);
        body.writeFloatBE(Number(v));
        this.push(Buffer.concat([control(T_FLOAT, 4), body]));
        return;
      }
      case 'bytes': {
        const body = Buffer.from(v as Uint8Array);
        this.push(Buffer.concat([control(T_BYTES, body.length), body]));
        return;
      }
    }
  }

  private writeUnsigned(type: number, n: bigint): void {
    // Unsigned integers are big-endian with leading zero bytes dropped; 0 has size 0.
    const body: number[] = [];
    for (let rest = n; rest > 0n; rest >>= 8n) body.unshift(Number(rest & 0xffn));
    this.push(Buffer.concat([control(type, body.length), Buffer.from(body)]));
  }

  private writeInt32(n: number): void {
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new Error(`${n} does not fit int32`);
    const body = Buffer.alloc(4);
    body.writeInt32BE(n);
    this.push(Buffer.concat([control(T_INT32, 4), body]));
  }

  private writeDouble(n: number): void {
    const body = Buffer.alloc(8);
    body.writeDoubleBE(n);
    this.push(Buffer.concat([control(T_DOUBLE, 8), body]));
  }
}

// A key that is equal for values that encode identically, types included.
function canonicalKey(value: MmdbValue): string {
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value === 'bigint') return `b${value.toString()}`;
  if (typeof value === 'number') return `n${Object.is(value, -0) ? '-0' : String(value)}`;
  if (value instanceof MmdbTyped) {
    const v = value.value;
    return `${value.kind}(${v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v)})`;
  }
  if (Array.isArray(value)) return `[${(value as readonly MmdbValue[]).map(canonicalKey).join(',')}]`;
  const entries = Object.entries(value as { readonly [k: string]: MmdbValue });
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalKey(v)}`).join(',')}}`;
}

/** The control byte(s) for a type and a payload size (or entry count). */
function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const s = size - 285;
    extra.push(s >> 8, s & 0xff);
  } else if (size < 65821 + 16777216) {
    sizeBits = 31;
    const s = size - 65821;
    extra.push((s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff);
  } else throw new Error(`value too large: ${size}`);
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}

function pointerSize(offset: number): number {
  if (offset < 2048) return 2;
  if (offset < 2048 + 524288) return 3;
  if (offset < 526336 + 134217728) return 4;
  return 5;
}

/** A pointer to a data-section offset, in the smallest of the four pointer sizes. */
function pointer(offset: number): Buffer {
  const base = T_POINTER << 5;
  if (offset < 2048) return Buffer.from([base | (offset >> 8), offset & 0xff]);
  if (offset < 526336) {
    const v = offset - 2048;
    return Buffer.from([base | (1 << 3) | (v >> 16), (v >> 8) & 0xff, v & 0xff]);
  }
  if (offset < 526336 + 134217728) {
    const v = offset - 526336;
    return Buffer.from([base | (2 << 3) | (v >> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  }
  const b = Buffer.alloc(5);
  b[0] = base | (3 << 3);
  b.writeUInt32BE(offset, 1);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Search tree

interface TreeNode {
  left: Child;
  right: Child;
}
type Child = TreeNode | { readonly data: number } | null;

function isNode(child: Child): child is TreeNode {
  return child !== null && 'left' in child;
}

function insert(root: TreeNode, bytes: Uint8Array, prefix: number, data: number): void {
  const leaf = { data };
  if (prefix === 0) {
    root.left = leaf;
    root.right = leaf;
    return;
  }
  let node = root;
  for (let depth = 0; depth < prefix - 1; depth++) {
    const side = bitAt(bytes, depth) ? 'right' : 'left';
    let next = node[side];
    if (!isNode(next)) {
      // Splitting an empty or data child: both halves inherit it, so a more specific network
      // inserted later overrides only its own part of a broader one.
      next = { left: next, right: next };
      node[side] = next;
    }
    node = next;
  }
  node[bitAt(bytes, prefix - 1) ? 'right' : 'left'] = leaf;
}

function recordSizeFor(maxValue: number): 24 | 28 | 32 {
  if (maxValue < 2 ** 24) return 24;
  if (maxValue < 2 ** 28) return 28;
  return 32;
}

function writeNode(out: Buffer, offset: number, recordSize: 24 | 28 | 32, left: number, right: number): void {
  if (recordSize === 24) {
    out.writeUIntBE(left, offset, 3);
    out.writeUIntBE(right, offset + 3, 3);
  } else if (recordSize === 28) {
    // The middle byte carries the top nibble of each record: left's high, right's low.
    out.writeUIntBE(left & 0xffffff, offset, 3);
    out[offset + 3] = (((left >>> 24) & 0x0f) << 4) | ((right >>> 24) & 0x0f);
    out.writeUIntBE(right & 0xffffff, offset + 4, 3);
  } else {
    out.writeUInt32BE(left, offset);
    out.writeUInt32BE(right, offset + 4);
  }
}

/** Builds a complete .mmdb file in memory; later, more specific networks override broader ones. */
export function writeMmdb(options: MmdbWriteOptions): Buffer {
  const ipVersion = options.ipVersion ?? 6;
  const treeBits = ipVersion === 6 ? 128 : 32;
  const data = new DataWriter(options.usePointers ?? true);

  // Broader networks first, so nested ones split them rather than being overwritten.
  const parsed = options.networks
    .map((n, index) => ({ ...cidrToTreePath(n.cidr, treeBits), data: n.data, index }))
    .sort((a, b) => a.prefix - b.prefix || a.index - b.index);
  const root: TreeNode = { left: null, right: null };
  for (const network of parsed) insert(root, network.bytes, network.prefix, data.write(network.data));

  // Number nodes breadth first: root is node 0.
  const nodes: TreeNode[] = [];
  const numbers = new Map<TreeNode, number>();
  const queue: TreeNode[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as TreeNode;
    numbers.set(node, nodes.length);
    nodes.push(node);
    for (const child of [node.left, node.right]) if (isNode(child)) queue.push(child);
  }
  const nodeCount = nodes.length;
  const dataSection = data.toBuffer();
  const maxRecord = nodeCount + DATA_SECTION_SEPARATOR + dataSection.length;
  const recordSize = options.recordSize ?? recordSizeFor(maxRecord);
  if (maxRecord >= 2 ** recordSize) throw new Error(`record size ${recordSize} too small for ${maxRecord}`);

  const recordValue = (child: Child): number => {
    if (child === null) return nodeCount;
    if (isNode(child)) return numbers.get(child) as number;
    return nodeCount + DATA_SECTION_SEPARATOR + child.data;
  };
  const nodeBytes = recordSize / 4;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  nodes.forEach((node, i) => writeNode(tree, i * nodeBytes, recordSize, recordValue(node.left), recordValue(node.right)));

  // Metadata is a separate data section; pointers are not allowed in it, so a fresh writer without them.
  const meta = new DataWriter(false);
  meta.write({
    node_count: uint32(nodeCount),
    record_size: uint16(recordSize),
    ip_version: uint16(ipVersion),
    database_type: options.databaseType,
    languages: options.languages ?? ['en'],
    binary_format_major_version: uint16(2),
    binary_format_minor_version: uint16(0),
    build_epoch: uint64(options.buildEpoch ?? Math.floor(Date.now() / 1000)),
    description: options.description ?? { en: `${options.databaseType} test fixture` },
  });

  return Buffer.concat([tree, Buffer.alloc(DATA_SECTION_SEPARATOR), dataSection, METADATA_MARKER, meta.toBuffer()]);
}
