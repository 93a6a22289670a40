/**
 * What a gateway process spent between two moments, for the migrate benchmark's per-dossier
 * server cost: CPU of the whole process and of its main thread (on the embedded database every
 * SQL statement runs there) from /proc, and the round trips it counts in /metrics (statements,
 * transactions, HTTP requests by route, job pick-up waits and durations). With `strace` (optional,
 * `--strace`): the syscalls that cost a round trip to the disk or the kernel (fsyncs, renames,
 * thread starts), counted over the same span.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';

/** Linux reports CPU in clock ticks of 1/100 s on every platform Node runs on here. */
const TICK_MS = 10;

async function cpuMs(statFile: string): Promise<number> {
  const stat = await fs.readFile(statFile, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export interface ServerSnapshot {
  readonly cpuMs: number;
  readonly mainThreadCpuMs: number;
  readonly threads: number;
  readonly metrics: Map<string, number>;
}

export async function serverSnapshot(pid: number, url: string): Promise<ServerSnapshot> {
  const [cpu, main, tasks, text] = await Promise.all([
    cpuMs(`/proc/${pid}/stat`),
    cpuMs(`/proc/${pid}/task/${pid}/stat`),
    fs.readdir(`/proc/${pid}/task`),
    fetch(`${url}/metrics`).then((r) => r.text()),
  ]);
  const metrics = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    metrics.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { cpuMs: cpu, mainThreadCpuMs: main, threads: tasks.length, metrics };
}

/** The sum over every series of `name` whose labels contain each of `labels` (`k="v"`). */
function sum(m: Map<string, number>, name: string, labels: string[] = []): number {
  let total = 0;
  for (const [series, v] of m) {
    const bare = series.split('{')[0];
    if (bare === name && labels.every((l) => series.includes(l))) total += v;
  }
  return total;
}

export interface ServerCost {
  readonly rows: [string, string][];
}

/** Per-dossier figures between two snapshots; `dossiers` is how many were sealed in between. */
export function serverCost(before: ServerSnapshot, after: ServerSnapshot, dossiers: number): ServerCost {
  const d = (name: string, labels?: string[]) => sum(after.metrics, name, labels) - sum(before.metrics, name, labels);
  const per = (x: number, digits = 1) => (x / dossiers).toFixed(digits);
  const mean = (name: string, labels: string[]) => {
    const n = d(`${name}_count`, labels);
    return n ? ((d(`${name}_sum`, labels) / n) * 1000).toFixed(1) : '–';
  };
  const cpu = after.cpuMs - before.cpuMs;
  const main = after.mainThreadCpuMs - before.mainThreadCpuMs;
  const statements = d('dossier_db_statements_total');
  const transactions = d('dossier_db_transactions_total');
  const requests = d('dossier_http_request_duration_seconds_count');
  return {
    rows: [
      ['CPU ms, whole gateway process', per(cpu)],
      ['CPU ms, main thread (HTTP, SQL on the embedded database, signing)', per(main)],
      ['CPU ms, other threads (page readers, libuv pool, GC, OCR)', per(cpu - main)],
      ['SQL statements (outside transactions)', per(d('dossier_db_statements_total', ['scope="single"']))],
      ['SQL statements inside transactions', per(d('dossier_db_statements_total', ['scope="transaction"']))],
      ['transactions', per(transactions, 2)],
      ['SQL round trips in all (statements + BEGIN/COMMIT)', per(statements + 2 * transactions)],
      ['HTTP requests, all', per(requests)],
      ['HTTP requests, tus (/files)', per(d('dossier_http_request_duration_seconds_count', ['route="/files"']))],
      ['HTTP requests, dossier status one by one (GET /api/dossiers/:id)', per(d('dossier_http_request_duration_seconds_count', ['method="GET"', 'route="/api/dossiers/:id"']))],
      ['HTTP requests, dossier status in batches (GET /api/dossiers?ids=)', per(d('dossier_http_request_duration_seconds_count', ['method="GET"', 'route="/api/dossiers"']))],
      ['HTTP requests, cases (find or create)', per(d('dossier_http_request_duration_seconds_count', ['route="/api/cases"']))],
      ['ingest job: mean ms (claim to done)', mean('dossier_job_duration_seconds', ['kind="ingest"'])],
      ['ingest job: mean pick-up wait ms (due to claimed)', mean('dossier_job_wait_seconds', ['kind="ingest"'])],
      ['thumbnail / OCR jobs run during the span', `${d('dossier_job_duration_seconds_count', ['kind="thumbnails"'])} / ${d('dossier_job_duration_seconds_count', ['kind="ocr"'])}`],
      ['threads in the process (before → after)', `${before.threads} → ${after.threads}`],
    ],
  };
}

/** Counts syscalls of `pid` and all its threads until `stop()`: strace -c -f. Null without strace. */
export async function straceCounts(pid: number): Promise<{ stop(): Promise<[string, string][]> } | null> {
  const which = await fs.access('/usr/bin/strace').then(() => true, () => false);
  if (!which) return null;
  const out = `/tmp/strace-${pid}-${Date.now()}.txt`;
  const child: ChildProcess = spawn('strace', ['-f', '-c', '-o', out, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2,clone,clone3,openat,unlink,mkdir', '-p', String(pid)], { stdio: 'ignore' });
  // strace attaches within a moment; the counts start then.
  await new Promise((r) => setTimeout(r, 1000));
  return {
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      const text = await fs.readFile(out, 'utf8').catch(() => '');
      await fs.rm(out, { force: true });
      const rows: [string, string][] = [];
      for (const line of text.split('\n')) {
        const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
        if (m) rows.push([m[2]!, m[1]!]);
      }
      return rows;
    },
  };
}
