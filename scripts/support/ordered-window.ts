/**
 * Runs `work` over items in order with at most `window` of them started and not yet emitted, and
 * emits the results in the items' order. Memory is bounded by the window, not by the number of
 * items: a slow item at the head holds back new starts instead of letting finished rows pile up.
 */
export async function orderedWindow<T, R>(items: Iterable<T>, window: number, work: (item: T) => Promise<R> | R, emit: (result: R) => Promise<void> | void): Promise<void> {
  const started: Promise<R>[] = [];
  try {
    for (const item of items) {
      const result = work(item);
      // Decided at once (a re-run's unchanged item) with nothing ahead of it: emitted now, no promise.
      if (started.length === 0 && !(result instanceof Promise)) {
        const emitted = emit(result);
        if (emitted) await emitted;
        continue;
      }
      started.push(Promise.resolve(result));
      if (started.length >= window) await emit(await started.shift()!);
    }
    while (started.length) await emit(await started.shift()!);
  } finally {
    // On a failure of emit, the items still running are let finish unobserved: no unhandled rejection.
    for (const p of started) p.catch(() => {});
  }
}
