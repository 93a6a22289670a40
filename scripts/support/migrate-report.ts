/** The report of `dossier migrate`: one row per dossier, as JSON and CSV. */
import fs from 'node:fs/promises';
import type { ItemOutcome } from './migrate-journal.js';

const CSV_COLUMNS = ['case', 'item', 'status', 'pages', 'bytes', 'dossierId', 'sha256', 'error'] as const;

/** Writes `target` (.json or .csv by its extension), or both beside it when `both`. */
export async function writeReports(target: string, rows: readonly ItemOutcome[], both: boolean): Promise<void> {
  const base = target.replace(/\.(json|csv)$/, '');
  if (both || target.endsWith('.json')) await fs.writeFile(`${base}.json`, JSON.stringify(rows, null, 2));
  if (both || target.endsWith('.csv')) {
    const csv = [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((k) => csvCell(r[k])).join(','))].join('\n');
    await fs.writeFile(`${base}.csv`, `${csv}\n`);
  }
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
