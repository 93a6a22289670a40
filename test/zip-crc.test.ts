/** The native CRC-32 shim under yazl (server/zip-crc.ts): active, and the same function. */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { nativeCrc32, yazlUsesNativeCrc32 } from '../server/zip-crc.js';
import '../server/routes/export.js';

const require = createRequire(import.meta.url);
const bufferCrc32 = require(require.resolve('buffer-crc32', { paths: [require.resolve('yazl')] })) as (buf: Buffer, previous?: Buffer) => Buffer;

describe('ZIP checksums', () => {
  it('the export route makes yazl checksum with zlib.crc32', () => {
    expect(yazlUsesNativeCrc32()).to.equal(true);
  });

  it('zlib.crc32 equals buffer-crc32, whole and in running chunks', () => {
    for (const size of [0, 1, 7, 4096, 1_000_003]) {
      const data = randomBytes(size);
      expect(nativeCrc32(data), `size ${size}`).to.equal(bufferCrc32(data).readUInt32BE(0));
      const half = Math.floor(size / 2);
      expect(nativeCrc32(data.subarray(half), nativeCrc32(data.subarray(0, half)))).to.equal(nativeCrc32(data));
    }
  });
});
