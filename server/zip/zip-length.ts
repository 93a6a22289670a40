/**
 * The length of the archive ZipStreamWriter writes for a list of entries, known before a byte is
 * read: what Content-Length and Content-Range need. Measured with the very record builders the
 * writer uses (their lengths do not depend on CRCs or times), so the two cannot disagree.
 */
import { entryName, type ZipStreamOptions } from './zip-stream-writer.js';
import { ZIP64_LIMIT, centralRecord, dosDateTime, endRecords, localHeader } from './zip-records.js';

const ANY_TIME = dosDateTime(new Date(0));

export function zipLength(entries: readonly { readonly name: string; readonly size: number }[], options: Pick<ZipStreamOptions, 'forceZip64'> = {}): number {
  const force = options.forceZip64 === true;
  let offset = 0;
  let central = 0;
  for (const e of entries) {
    const name = entryName(e.name);
    const zip64 = force || e.size >= ZIP64_LIMIT;
    central += centralRecord({ name, time: ANY_TIME, crc: 0, size: e.size, offset, zip64, forceZip64Offset: force }).length;
    offset += localHeader(name, ANY_TIME, zip64).length + e.size + (zip64 ? 24 : 16);
  }
  return offset + central + endRecords(entries.length, offset, central, force).length;
}
