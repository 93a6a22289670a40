/**
 * CPU time, which the load of a shared machine distorts far less than wall time: this process's
 * own (its threads: tesseract.js workers, sharp, libuv) and that of its children once they have
 * ended and been reaped (the native tesseract processes), from /proc/<pid>/stat; of another
 * process (a gateway) the same two from its stat. Linux only; elsewhere children count 0.
 */
import fs from 'node:fs';

/** Clock ticks a second (USER_HZ): 100 on every Linux this runs on. */
const HZ = 100;

export interface CpuTime {
  /** CPU-seconds of the process itself (all its threads). */
  readonly self: number;
  /** CPU-seconds of its ended children (reaped). */
  readonly children: number;
}

/** utime, stime, cutime, cstime of a /proc/<pid>/stat line, in seconds. */
function fromStat(pid: number | 'self'): CpuTime | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const f = statFields(stat);
  return { self: (f[11]! + f[12]!) / HZ, children: (f[13]! + f[14]!) / HZ };
}

/** The numeric fields after the command name (which may hold spaces): state is field 3, utime field 14. */
const statFields = (stat: string): number[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);

export function cpuNow(): CpuTime {
  const u = process.cpuUsage();
  return { self: (u.user + u.system) / 1e6, children: fromStat('self')?.children ?? 0 };
}

/** Another process's CPU time (a gateway), null when it is gone. */
export const cpuOf = (pid: number): CpuTime | null => fromStat(pid);

export const cpuSince = (t0: CpuTime, t1: CpuTime = cpuNow()): CpuTime => ({ self: t1.self - t0.self, children: t1.children - t0.children });

export const total = (t: CpuTime): number => t.self + t.children;

/** CPU-seconds of each thread of a process (Linux), keyed by thread id, with the thread's name. */
export function threadsOf(pid: number): Map<number, { readonly name: string; readonly seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = statFields(stat);
      out.set(Number(tid), { name, seconds: (f[11]! + f[12]!) / HZ });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU-seconds each thread spent between two readings of threadsOf, busiest first ("name#tid"). */
export function threadCpuSince(before: ReturnType<typeof threadsOf>, after: ReturnType<typeof threadsOf>): Array<[string, number]> {
  const spent: Array<[string, number]> = [];
  for (const [tid, t] of after) {
    const s = t.seconds - (before.get(tid)?.seconds ?? 0);
    if (s > 0) spent.push([`${t.name}#${tid}`, s]);
  }
  return spent.sort((a, b) => b[1] - a[1]);
}
