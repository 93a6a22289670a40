/**
 * yazl checksums every byte it writes with buffer-crc32, a table-driven CRC-32 in JavaScript:
 * ~300 MB/s on one core here, on the main thread, which held a 2.4 GB export ZIP to ~100 MB/s.
 * Node's zlib.crc32 (native, 20.15+) computes the same function at ~3 GB/s. yazl offers no hook,
 * so its buffer-crc32's `unsigned` is pointed at the native one, once, at start; the export test
 * checks that yazl still goes through it and that the CRCs in our ZIPs are right (yauzl checks them).
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

type Crc32 = ((buf: Buffer, previous?: number) => number) & { [NATIVE]?: true };
interface BufferCrc32 {
  unsigned: Crc32;
}

// A mark, not identity: a test runner may load this module twice (ESM and CJS), each with its own function.
const NATIVE = Symbol.for('dossier-gateway.native-crc32');

const require = createRequire(import.meta.url);
const yazlCrc32 = require(require.resolve('buffer-crc32', { paths: [require.resolve('yazl')] })) as BufferCrc32;

export const nativeCrc32: Crc32 = (buf, previous) => zlib.crc32(buf, previous ?? 0);
nativeCrc32[NATIVE] = true;

yazlCrc32.unsigned = nativeCrc32;

/** Whether yazl's checksum is the native one (for the test that guards this shim). */
export const yazlUsesNativeCrc32 = (): boolean => yazlCrc32.unsigned[NATIVE] === true;
