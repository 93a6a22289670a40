/**
 * The report of `dossier migrate`: one row per dossier, as JSON and CSV, written row by row as the
 * items finish (in plan order), so a run of 100,000 items holds none of them in memory.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import type { ItemOutcome } from './migrate-journal.js';

const CSV_COLUMNS = ['case', 'item', 'status', 'pages', 'bytes', 'dossierId', 'sha256', 'error'] as const;

/** Streams rows to `target` (.json or .csv by its extension), or to both beside it when `both`; and optionally to stdout as JSON. */
/** Rows are gathered and written this many characters at a time: 100,000 rows are a few hundred writes, not 300,000. */
const CHUNK_CHARS = 64 * 1024;

export class ReportWriter {
  private readonly outs: { stream: NodeJS.WritableStream; format: 'json' | 'csv'; rows: number; owned: boolean; buffered: string[]; chars: number }[] = [];

  constructor(target: string, both: boolean, jsonToStdout: boolean) {
    const base = target.replace(/\.(json|csv)$/, '');
    if (both || target.endsWith('.json')) this.outs.push({ stream: fs.createWriteStream(`${base}.json`), format: 'json', rows: 0, owned: true, buffered: [], chars: 0 });
    if (both || target.endsWith('.csv')) this.outs.push({ stream: fs.createWriteStream(`${base}.csv`), format: 'csv', rows: 0, owned: true, buffered: [], chars: 0 });
    if (jsonToStdout) this.outs.push({ stream: process.stdout, format: 'json', rows: 0, owned: false, buffered: [], chars: 0 });
    for (const o of this.outs) {
      // Kept, and thrown at the next row or at close: never an unhandled 'error' event.
      o.stream.on('error', (err: Error) => (this.failure ??= err));
      if (o.format === 'csv') o.stream.write(`${CSV_COLUMNS.join(',')}\n`);
    }
  }

  private failure: Error | undefined;

  /** Resolves once every stream can take more (back-pressure: a slow stdout holds the run, not memory). */
  async row(r: ItemOutcome): Promise<void> {
    if (this.failure) throw this.failure;
    let full = false;
    for (const o of this.outs) {
      const text = o.format === 'csv' ? `${CSV_COLUMNS.map((k) => csvCell(r[k])).join(',')}\n` : `${o.rows ? ',\n' : '[\n'}${indent(JSON.stringify(r, null, 2))}`;
      o.rows++;
      o.buffered.push(text);
      o.chars += text.length;
      if (o.chars >= CHUNK_CHARS) full = true;
    }
    // Most rows only join the buffer: no write. A slow run still shows its rows within a second.
    if (full || Date.now() - this.flushedAt >= 1000) return this.flush();
  }

  private flushedAt = Date.now();

  private async flush(): Promise<void> {
    this.flushedAt = Date.now();
    for (const o of this.outs) {
      if (o.chars === 0) continue;
      const text = o.buffered.join('');
      o.buffered = [];
      o.chars = 0;
      if (!o.stream.write(text)) await once(o.stream, 'drain');
    }
  }

  async close(): Promise<void> {
    await this.flush();
    for (const o of this.outs) {
      if (o.format === 'json') o.stream.write(o.rows ? '\n]\n' : '[]\n');
      if (o.owned) {
        const done = once(o.stream, 'finish');
        o.stream.end();
        await done;
      }
    }
    if (this.failure) throw this.failure;
  }
}

function indent(json: string): string {
  return `  ${json.replaceAll('\n', '\n  ')}`;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
