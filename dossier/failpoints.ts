/**
 * Failpoints: named steps of the commit path where a fault-injection test makes this process die
 * (SIGKILL, as a power cut, the OOM killer or `kill -9` would) or fail the step with an I/O error,
 * to prove that a crash or a failed write at that step loses nothing, doubles nothing and is never
 * reported as a success (test/reliability/crash-points.test.ts, RELIABILITY.md).
 *
 * Armed from FAILPOINTS (runtime/config.ts) and never in normal operation; unarmed,
 * a point costs one size check. The rule `blob.fsync=kill@20` kills the process at the 20th fsync
 * of a blob; `s3.put=error@1-3` fails the first three puts, then lets them pass.
 * Hits are counted from when the gateway is ready to serve (its start-up's own transactions are
 * not the steps under test). This module sits in the domain's room only because every room may
 * import it; its one I/O is the line on stderr that says where a kill struck.
 */
import { writeSync } from 'node:fs';

export const FAILPOINT_NAMES = [
  /** A chunk of a tus PATCH about to be written to the staged upload. */
  'upload.write',
  /** A blob's bytes about to be written to its temp file (filesystem store). */
  'blob.write',
  /** A blob's temp file (or a moved original) about to be fsynced. */
  'blob.fsync',
  /** A blob's durable temp file about to be renamed to its key. */
  'blob.rename',
  /** An object about to be put to S3. */
  's3.put',
  /** A database transaction about to commit (any transaction: ingest's seal, a job's effect, …). */
  'db.commit',
  /** Audit events about to be inserted (in their transaction). */
  'audit.append',
  /** A page's recognised text about to be recorded (after its text blobs are stored). */
  'ocr.commit',
  /** An entry of an export ZIP about to be streamed to the receiver. */
  'export.entry',
  /** A custody decision (send, accept, return) committed, its HTTP answer not yet sent. */
  'answer.transfer',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export interface FailpointRule {
  readonly name: FailpointName;
  readonly action: 'kill' | 'error';
  /** The hits (1-based, counted from the start of the process) that the rule acts on. */
  readonly from: number;
  readonly to: number;
}

const RULE = /^([a-z0-9]+\.[a-z0-9]+)=(kill|error)(?:@(\d+)(?:-(\d+))?)?$/;

/** `name=kill|error[@N[-M]]`, comma-separated; a message naming the bad part otherwise. */
export function parseFailpoints(spec: string): FailpointRule[] | string {
  const rules: FailpointRule[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = RULE.exec(part);
    if (!m) return `"${part}": expected name=kill|error[@N[-M]]`;
    const name = m[1] as FailpointName;
    if (!FAILPOINT_NAMES.includes(name)) return `"${part}": no failpoint ${name} (known: ${FAILPOINT_NAMES.join(', ')})`;
    const from = m[3] === undefined ? 1 : Number(m[3]);
    const to = m[4] === undefined ? from : Number(m[4]);
    if (from < 1 || to < from) return `"${part}": hits count from 1, and the range must not be empty`;
    if (rules.some((r) => r.name === name)) return `"${part}": ${name} is named twice`;
    rules.push({ name, action: m[2] as 'kill' | 'error', from, to });
  }
  return rules;
}

/** The error a failing step throws: what the operating system says of a failed write or sync. */
export class FailpointError extends Error {
  override readonly name = 'FailpointError';
  readonly code = 'EIO';
  constructor(readonly point: FailpointName, readonly hit: number) {
    super(`EIO: i/o error (failpoint ${point}, hit ${hit})`);
  }
}

const armed = new Map<FailpointName, FailpointRule>();
const hits = new Map<FailpointName, number>();

export function armFailpoints(rules: readonly FailpointRule[]): void {
  armed.clear();
  hits.clear();
  for (const r of rules) armed.set(r.name, r);
}

export const failpointArmed = (name: FailpointName): boolean => armed.has(name);

/** Passes, kills this process, or throws FailpointError, as the armed rule says of this hit. */
export function failpoint(name: FailpointName): void {
  if (armed.size === 0) return;
  const rule = armed.get(name);
  if (!rule) return;
  const hit = (hits.get(name) ?? 0) + 1;
  hits.set(name, hit);
  if (hit < rule.from || hit > rule.to) return;
  if (rule.action === 'error') throw new FailpointError(name, hit);
  // Where it struck, for the test's record: written at once, before the process is gone.
  const at = (new Error().stack ?? '').split('\n').slice(2, 7).map((l) => l.trim()).join(' < ');
  writeSync(2, `${JSON.stringify({ failpoint: name, hit, action: 'kill', at })}\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal is on its way; nothing more of this process may run before it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
