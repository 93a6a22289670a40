/**
 * Each reliability case records its outcome; at exit the records of a run are written to
 * test-artifacts/reliability/<suite>.json, from which RELIABILITY.md's tables are made.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CaseRecord {
  readonly suite: string;
  readonly name: string;
  readonly result: string;
  readonly ms: number;
}

const records: CaseRecord[] = [];
const figures: Record<string, Record<string, unknown>> = {};

export function recordCase(suite: string, name: string, result: string, ms: number): void {
  if (records.length === 0 && Object.keys(figures).length === 0) process.once('exit', flush);
  records.push({ suite, name, result, ms: Math.round(ms) });
}

/** Counts, latencies, memory: the figures a suite measured. */
export function recordFigures(suite: string, values: Record<string, unknown>): void {
  if (records.length === 0 && Object.keys(figures).length === 0) process.once('exit', flush);
  figures[suite] = { ...figures[suite], ...values };
}

function flush(): void {
  const dir = path.resolve('test-artifacts', 'reliability');
  mkdirSync(dir, { recursive: true });
  const suites = new Set([...records.map((r) => r.suite), ...Object.keys(figures)]);
  for (const suite of suites) {
    const body = { suite, at: new Date().toISOString(), cases: records.filter((r) => r.suite === suite), figures: figures[suite] ?? {} };
    writeFileSync(path.join(dir, `${suite}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
}
