/** Loads JSON from the API for a screen, optionally polling while `keepPolling` says so. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';

export function useData<T>(path: string | null, options: { pollMs?: number; keepPolling?: (v: T) => boolean } = {}) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  const opts = useRef(options);
  opts.current = options;
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    if (!path) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const v = await get<T>(path);
        if (stopped) return;
        setData(v);
        setError(null);
        const { pollMs, keepPolling } = opts.current;
        if (pollMs && (!keepPolling || keepPolling(v))) timer = setTimeout(load, pollMs);
      } catch (err) {
        if (!stopped) setError(err as Error);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, tick]);

  return { data, error, reload };
}
