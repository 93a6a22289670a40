/**
 * Resident memory of a process (a gateway) sampled every `everyMs`: its own RSS and the RSS of
 * it and its child processes together (the native tesseract processes, found through
 * /proc/<pid>/task/<tid>/children). The kernel's own peak (VmHWM, spawnServer's peakRss) is
 * exact for the process alone; the children's share only sampling can see. Linux only.
 */
import fs from 'node:fs';

const rssOf = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // gone meanwhile
  }
};

function childrenOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export interface RssPeaks {
  /** Highest sampled RSS of the process itself, bytes. */
  readonly self: number;
  /** Highest sampled RSS of the process and its children at one moment, bytes. */
  readonly withChildren: number;
  readonly samples: number;
}

export function sampleRss(pid: number, everyMs = 500): { stop(): RssPeaks } {
  let self = 0, withChildren = 0, samples = 0;
  const sample = () => {
    const own = rssOf(pid);
    if (own === 0) return;
    self = Math.max(self, own);
    withChildren = Math.max(withChildren, own + childrenOf(pid).reduce((n, c) => n + rssOf(c), 0));
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop() {
      sample();
      clearInterval(timer);
      return { self, withChildren, samples };
    },
  };
}
