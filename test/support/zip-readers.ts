/**
 * Three independent ZIP readers for the archives we write: yauzl (what `dossier verify` reads
 * with), Python's zipfile and Info-ZIP's unzip (/usr/bin/unzip); the last two check every CRC-32.
 */
import { execFile } from 'node:child_process';
import { buffer } from 'node:stream/consumers';
import yauzl from 'yauzl';

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024 }, (err, out, errOut) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
    });
  });
}

/** `python3 -m zipfile -t`: exit 0 and no corrupted member (it exits 0 even then, so the text is read). */
export async function pythonZipTest(file: string): Promise<Run> {
  const r = await run('python3', ['-m', 'zipfile', '-t', file]);
  if (r.code !== 0 || !r.out.includes('Done testing') || r.out.includes('corrupted')) {
    throw new Error(`python3 -m zipfile -t ${file}: exit ${r.code}\n${r.out}\n${r.err}`);
  }
  return r;
}

export interface PythonEntry {
  name: string;
  size: number;
  crc: number;
  dateTime: number[];
  flags: number;
  /** Python took this entry's sizes or offset from a ZIP64 extra. */
  zip64Extra: boolean;
}

/** Python's view of the central directory (names decoded by zipfile, UTF-8 when bit 11 says so). */
export async function pythonEntries(file: string): Promise<PythonEntry[]> {
  const script = [
    'import json, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z:',
    '  print(json.dumps([{"name": i.filename, "size": i.file_size, "crc": i.CRC, "dateTime": list(i.date_time),',
    '    "flags": i.flag_bits, "zip64Extra": b"\\x01\\x00" == i.extra[:2]} for i in z.infolist()]))',
  ].join('\n');
  const r = await run('python3', ['-c', script, file]);
  if (r.code !== 0) throw new Error(`python3 zipfile ${file}: ${r.err}`);
  return JSON.parse(r.out) as PythonEntry[];
}

/** `unzip -tq`: Info-ZIP tests every entry; exit 0 means no error and no warning. */
export async function unzipTest(file: string): Promise<Run> {
  const r = await run('unzip', ['-tq', file]);
  if (r.code !== 0 || !r.out.includes('No errors detected')) throw new Error(`unzip -tq ${file}: exit ${r.code}\n${r.out}\n${r.err}`);
  return r;
}

export interface YauzlEntry {
  name: string;
  size: number;
  /** The entry's bytes, when asked for by `read`. */
  bytes?: Buffer;
  modified: Date;
}

/** The entries as yauzl reads them (sizes validated); the bytes of those `read` selects. */
export async function yauzlEntries(file: string | Buffer, read: (name: string) => boolean = () => true): Promise<YauzlEntry[]> {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true };
  const zip = typeof file === 'string' ? await yauzl.openPromise(file, options) : await yauzl.fromBufferPromise(file, options);
  try {
    const out: YauzlEntry[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        const entry: YauzlEntry = { name: e.fileName, size: e.uncompressedSize, modified: e.getLastModDate({ timezone: 'UTC' }) };
        out.push(entry);
        if (!read(e.fileName)) return zip.readEntry();
        zip.openReadStreamPromise(e).then(buffer).then((b) => {
          entry.bytes = b;
          zip.readEntry();
        }, reject);
      });
      zip.once('end', resolve);
      zip.once('error', reject);
      zip.readEntry();
    });
    return out;
  } finally {
    zip.close();
  }
}
