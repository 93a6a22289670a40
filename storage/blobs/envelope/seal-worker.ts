/** A thread of the seal pool (a piscina task): seals a run of segments and hands them back transferred. */
import { Piscina } from 'piscina';
import { sealSegments } from './seal-streams.js';
import { segmentCipher, type CipherName } from './segment-cipher.js';

export interface SealTask {
  readonly cipher: CipherName;
  readonly dataKey: Uint8Array;
  readonly sha256: string;
  readonly plain: Uint8Array;
  readonly first: number;
  readonly last: boolean;
}

class Moved {
  constructor(private readonly sealed: Buffer) {}
  get [Piscina.transferableSymbol]() { return [this.sealed.buffer]; }
  get [Piscina.valueSymbol]() { return this.sealed; }
}

export default function seal(t: SealTask): unknown {
  const k = { cipher: segmentCipher(t.cipher), dataKey: Buffer.from(t.dataKey.buffer, t.dataKey.byteOffset, t.dataKey.byteLength), sha256: t.sha256 };
  const sealed = sealSegments(k, t.plain, t.first, t.last);
  // Own the bytes outright, so the transfer moves exactly these (never a pooled parent buffer).
  const own = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength ? sealed : Buffer.from(new Uint8Array(sealed).buffer);
  return Piscina.move(new Moved(own) as never);
}
