/**
 * A push-fed async iterator: a producer (bus listener, turn follower) pushes events as they happen and a consumer
 * (an HTTP stream) pulls them with `for await`. Events pushed in one synchronous burst are all taken within the
 * same turn of the event loop (each `next()` settles on a microtask), so a consumer that batches its writes per
 * turn (src/http/sse.ts) still sends a burst as one chunk.
 */
export class EventFeed<T> implements AsyncIterableIterator<T, undefined> {
  private queue: T[] = [];
  private listener: { fn: (value: T) => void; onFailure: (err: unknown) => void } | undefined;
  private waiter: { resolve: (result: IteratorResult<T, undefined>) => void; reject: (err: unknown) => void } | undefined;
  private failure: { err: unknown } | undefined;
  private ended = false;
  private readonly endHandlers: Array<() => void> = [];

  /** True once the feed takes no more events (finished, failed or closed). */
  get done(): boolean {
    return this.ended;
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.listener) return this.listener.fn(value);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value, done: false });
    } else {
      this.queue.push(value);
    }
  }

  /** No more events: the consumer still gets those queued, then the end. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
    this.runEndHandlers();
  }

  /** The producer failed: the consumer gets the events queued before it, then `err`. */
  fail(err: unknown): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (this.listener) {
      this.listener.onFailure(err);
    } else if (waiter) {
      this.waiter = undefined;
      waiter.reject(err);
    } else {
      this.failure = { err };
    }
    this.finish();
  }

  /** The consumer stops: queued events are dropped and the producer's end handlers run. */
  close(): void {
    this.queue = [];
    this.failure = undefined;
    this.finish();
  }

  /** Runs `fn` when the feed ends, at once if it already has: where a producer releases what it holds. */
  onEnd(fn: () => void): void {
    if (this.ended) fn();
    else this.endHandlers.push(fn);
  }

  /**
   * Delivers every event to `fn` synchronously, as it is pushed (those already queued first), instead of through
   * `next()`. For a consumer that handles an event at once and has a thousand siblings: an await per event per
   * follower added a third to the fan-out latency of a 20-delta burst to 1,000 streams at p99 (BENCHMARKS.md).
   * Use one or the other, not both; `fn` must not throw. A producer's failure goes to `onFailure`, then the feed ends.
   */
  listen(fn: (value: T) => void, onFailure: (err: unknown) => void): void {
    for (const value of this.queue.splice(0)) fn(value);
    if (this.failure) {
      const { err } = this.failure;
      this.failure = undefined;
      onFailure(err);
    }
    this.listener = { fn, onFailure };
  }

  /** `listen`, as a promise: resolved when the feed ends, rejected with the producer's failure. */
  deliver(fn: (value: T) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.onEnd(resolve);
      this.listen(fn, reject);
    });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.failure) {
      const { err } = this.failure;
      this.failure = undefined;
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** `break` out of `for await` closes the feed. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private runEndHandlers(): void {
    for (const fn of this.endHandlers.splice(0)) fn();
  }
}
