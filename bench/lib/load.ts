import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  workers: number;
  /** Measured time; operations started after it are not started at all. */
  durationMs: number;
  /** Operations started before this much time has passed are run but not counted. */
  warmupMs: number;
  /** A cap on all operations (counted or not), whatever the time: every loop here is bounded twice. */
  maxOps: number;
  /** One operation. Resolves when it is acknowledged; a rejection counts as an error, not a success. */
  op: (worker: number, n: number) => Promise<void>;
}

export interface LoadResult {
  /** Acknowledged operations in the measured window. */
  ops: number;
  /** Every acknowledged operation, warm-up included (what a lost-message check compares against). */
  acknowledged: number;
  errors: number;
  firstErrors: string[];
  /** Latency (ms) of each counted operation. */
  latencies: number[];
  /** From the end of the warm-up to the last counted operation's end, in ms. */
  elapsedMs: number;
  perSecond: number;
}

/**
 * Runs `workers` closed loops (each waits for its operation before starting the next) for warm-up + duration.
 * Throughput counts operations that started inside the measured window, divided by the time until the last of
 * them finished.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const firstErrors: string[] = [];
  let errors = 0;
  let acknowledged = 0;
  let started = 0;
  let lastEnd = measureFrom;
  const worker = async (w: number) => {
    for (let n = 0; started < options.maxOps; n++) {
      const t0 = performance.now();
      if (t0 >= stopAt) return;
      started++;
      try {
        await options.op(w, n);
        const t1 = performance.now();
        acknowledged++;
        if (t0 >= measureFrom) {
          latencies.push(t1 - t0);
          lastEnd = Math.max(lastEnd, t1);
        }
      } catch (err) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  const elapsedMs = Math.max(1, lastEnd - measureFrom);
  return { ops: latencies.length, acknowledged, errors, firstErrors, latencies, elapsedMs, perSecond: (latencies.length / elapsedMs) * 1000 };
}

/** Rejects after `ms` with a message naming what hung: a watchdog around each measured cell. */
export async function withDeadline<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
