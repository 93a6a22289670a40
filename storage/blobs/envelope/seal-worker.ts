/**
 * A thread of the seal pool (a piscina task): seals a whole blob handed over and hands it back
 * transferred, or a run of a file, read from and written to the file descriptors it is given.
 */
import { readSync, writeSync } from 'node:fs';
import { Piscina } from 'piscina';
import { SEGMENT_BYTES, STORED_SEGMENT_BYTES } from './layout.js';
import { sealBuffer, sealSegments } from './seal-streams.js';
import { segmentCipher, type CipherName } from './segment-cipher.js';

export interface SealTask {
  readonly cipher: CipherName;
  readonly dataKey: Uint8Array;
  readonly sha256: string;
  /** The blob's header, stored before its segments. */
  readonly header: Uint8Array;
  /** A whole blob to seal. */
  readonly plain?: Uint8Array;
  /** Or a run of a file: `length` bytes from `position` (a segment edge) of `input`, sealed into their place in `output`. */
  readonly file?: { readonly input: number; readonly output: number; readonly position: number; readonly length: number; readonly last: boolean };
}

class Moved {
  constructor(private readonly sealed: Buffer) {}
  get [Piscina.transferableSymbol]() { return [this.sealed.buffer]; }
  get [Piscina.valueSymbol]() { return this.sealed; }
}

export default function seal(t: SealTask): unknown {
  const k = { cipher: segmentCipher(t.cipher), dataKey: Buffer.from(t.dataKey.buffer, t.dataKey.byteOffset, t.dataKey.byteLength), sha256: t.sha256, header: t.header };
  if (t.plain) return Piscina.move(new Moved(sealBuffer(k, t.plain)) as never); // a buffer of its own: moved whole
  const f = t.file!;
  const plain = Buffer.allocUnsafeSlow(f.length);
  for (let at = 0; at < f.length; ) {
    const n = readSync(f.input, plain, at, f.length - at, f.position + at);
    if (n === 0) throw new Error(`the file to seal ends before byte ${f.position + at}`);
    at += n;
  }
  const first = f.position / SEGMENT_BYTES;
  const sealed = sealSegments(k, plain, first, f.last);
  const offset = t.header.byteLength + first * STORED_SEGMENT_BYTES;
  for (let at = 0; at < sealed.byteLength; ) at += writeSync(f.output, sealed, at, sealed.byteLength - at, offset + at);
  return sealed.byteLength;
}
