/**
 * Byte-level mutations of a valid file, as fast-check values: each is plain data (printable,
 * shrinkable, replayable), applied to the seed's bytes by `mutate`. Positions are anchored at the
 * head (magic numbers, local headers, TIFF header), the tail (ZIP central directory, PDF xref
 * and trailer) or anywhere, since that is where the structure of these formats lives.
 */
import fc from 'fast-check';

export type Anchor = 'head' | 'tail' | 'any';
export interface Position {
  readonly anchor: Anchor;
  /** Bytes from the head or the tail; for `any`, a fraction of the length in 1/65536ths. */
  readonly n: number;
}

export type Mutation =
  | { readonly op: 'flip'; readonly at: Position; readonly bit: number }
  | { readonly op: 'byte'; readonly at: Position; readonly value: number }
  | { readonly op: 'int'; readonly at: Position; readonly width: 2 | 4; readonly value: number; readonly bigEndian: boolean }
  | { readonly op: 'digits'; readonly at: Position; readonly text: string }
  | { readonly op: 'truncate'; readonly at: Position }
  | { readonly op: 'delete'; readonly at: Position; readonly length: number }
  | { readonly op: 'copy'; readonly from: Position; readonly to: Position; readonly length: number }
  | { readonly op: 'insert'; readonly at: Position; readonly bytes: readonly number[] };

/** Values that break length, count and offset fields: zero, one, signed edges, all ones. */
const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
/** Numbers a PDF writes in text (lengths, counts, offsets, object numbers). */
const NUMBERS = ['0', '-1', '1', '2', '65535', '999999999', '4294967296', '1e9', '-0', '3.5', 'R', ''];

const position: fc.Arbitrary<Position> = fc.oneof(
  fc.record({ anchor: fc.constant<Anchor>('head'), n: fc.nat(1023) }),
  fc.record({ anchor: fc.constant<Anchor>('tail'), n: fc.nat(1023) }),
  fc.record({ anchor: fc.constant<Anchor>('any'), n: fc.nat(65535) }),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat(7) }),
  fc.record({ op: fc.constant('byte' as const), at: position, value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x20, 0x0a), fc.nat(255)) }),
  fc.record({ op: fc.constant('int' as const), at: position, width: fc.constantFrom(2 as const, 4 as const), value: fc.constantFrom(...INTERESTING), bigEndian: fc.boolean() }),
  fc.record({ op: fc.constant('digits' as const), at: position, text: fc.constantFrom(...NUMBERS) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 512 }) }),
  fc.record({ op: fc.constant('copy' as const), from: position, to: position, length: fc.integer({ min: 1, max: 512 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 64 }) }),
);

/** One to four mutations, applied in order. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 4 });

function offset(p: Position, length: number): number {
  if (length === 0) return 0;
  const at = p.anchor === 'head' ? p.n : p.anchor === 'tail' ? length - 1 - p.n : Math.floor((p.n * length) / 65536);
  return Math.min(Math.max(at, 0), length - 1);
}

function applyOne(b: Buffer, m: Mutation): Buffer {
  if (b.length === 0) return m.op === 'insert' ? Buffer.from(m.bytes) : b;
  switch (m.op) {
    case 'flip': {
      const out = Buffer.from(b);
      out[offset(m.at, b.length)]! ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      const out = Buffer.from(b);
      out[offset(m.at, b.length)] = m.value;
      return out;
    }
    case 'int': {
      const out = Buffer.from(b);
      const at = Math.min(offset(m.at, b.length), Math.max(b.length - m.width, 0));
      if (b.length < m.width) return out;
      const v = m.width === 2 ? m.value & 0xffff : m.value >>> 0;
      if (m.width === 2) m.bigEndian ? out.writeUInt16BE(v, at) : out.writeUInt16LE(v, at);
      else m.bigEndian ? out.writeUInt32BE(v, at) : out.writeUInt32LE(v, at);
      return out;
    }
    case 'digits': {
      // The run of ASCII digits at or after the position, replaced by another number.
      let start = offset(m.at, b.length);
      while (start < b.length && !isDigit(b[start]!)) start++;
      if (start === b.length) return b;
      let end = start;
      while (end < b.length && isDigit(b[end]!)) end++;
      return Buffer.concat([b.subarray(0, start), Buffer.from(m.text, 'latin1'), b.subarray(end)]);
    }
    case 'truncate':
      return b.subarray(0, offset(m.at, b.length));
    case 'delete': {
      const at = offset(m.at, b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    }
    case 'copy': {
      const from = offset(m.from, b.length);
      const out = Buffer.from(b);
      b.copy(out, offset(m.to, b.length), from, from + m.length);
      return out;
    }
    case 'insert': {
      const at = offset(m.at, b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    }
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

export function mutate(seed: Buffer, list: readonly Mutation[]): Buffer {
  return list.reduce(applyOne, seed);
}
