/**
 * Bounded read-ahead: while the consumer handles result i, the next tasks already run (disk
 * reads, inflate and libvips encodes happen off the JavaScript thread, so they overlap with
 * hashing and storing). At most `window` tasks are in flight and, where sizes are known, at most
 * `budget` bytes (a task larger than that runs alone), so memory stays bounded whatever the input.
 */

export interface Task<T> {
  readonly result: Promise<T>;
  /** Stops the work early (e.g. destroys a stream); the result may then reject. */
  readonly cancel?: () => void;
}

export interface ReadAheadOptions {
  /** Tasks in flight at most, the one being awaited included. */
  readonly window: number;
  /** Bytes in flight at most, all tasks together; a larger task runs alone. */
  readonly budget?: number;
  /** The bytes task i will hold, if known in advance. */
  readonly sizeOf?: (index: number) => number;
}

export async function* readAhead<T>(count: number, start: (index: number) => Task<T>, options: ReadAheadOptions): AsyncGenerator<T> {
  const { window, budget = Infinity, sizeOf = () => 0 } = options;
  const inFlight: { task: Task<T>; size: number }[] = [];
  let next = 0;
  let bytes = 0;
  const fill = () => {
    while (next < count && inFlight.length < window && (inFlight.length === 0 || bytes + sizeOf(next) <= budget)) {
      const task = start(next);
      // Handled here so a task abandoned by an early return never becomes an unhandled
      // rejection; awaiting `task.result` below still sees its failure.
      task.result.catch(() => {});
      const size = sizeOf(next++);
      inFlight.push({ task, size });
      bytes += size;
    }
  };
  try {
    for (let index = 0; index < count; index++) {
      fill();
      const current = inFlight.shift()!;
      bytes -= current.size;
      const value = await current.task.result;
      fill();
      yield value;
    }
  } finally {
    // On error or early return: stop the tasks ahead and wait for them, so that no file
    // handle or stream outlives the iteration.
    for (const { task } of inFlight) task.cancel?.();
    await Promise.all(inFlight.map(({ task }) => task.result.catch(() => {})));
  }
}
