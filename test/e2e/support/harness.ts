import type { Browser, Page } from 'playwright-core';
import type { TestServer } from './servers.js';

/** What a browser test gets: the browser, servers, and a place to register its cleanup. */
export interface E2EContext {
  readonly browser: Browser;
  /**
   * A server that tests share, started on first use: `slow` answers (local model, ~5 s an answer) leave time
   * to act mid-answer; `quick` ones (~1.5 s) are for tests that only need answers.
   */
  sharedServer(kind: SharedServerKind): Promise<TestServer>;
  /**
   * A page of the shared browser in a context of its own (its own cookies: one person's browser), closed when the
   * test ends. `sameBrowserAs`: another tab in that page's context instead (the same person, the same cookie).
   */
  newPage(viewport?: { width: number; height: number }, options?: { sameBrowserAs?: Page }): Promise<Page>;
  /** Runs when the test ends, passed or failed, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
  /** Aborted when the test times out. */
  readonly signal: AbortSignal;
}

export interface E2ETest {
  name: string;
  timeoutMs: number;
  run(ctx: E2EContext): Promise<void>;
}

export type SharedServerKind = 'slow' | 'quick';

const registered: E2ETest[] = [];

/** Registers a browser test; test files call this when imported. */
export function e2e(name: string, run: (ctx: E2EContext) => Promise<void>, options: { timeoutMs?: number } = {}): void {
  registered.push({ name, run, timeoutMs: options.timeoutMs ?? 60_000 });
}

export function registeredTests(): readonly E2ETest[] {
  return registered;
}

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new AssertionError(`${what}: expected ${e}, got ${a}`);
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new AssertionError(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
