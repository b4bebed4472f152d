import type { Logger } from '../log/logger.js';
import type { Sql } from '../store/db.js';
import { visiblePairs } from '../store/reports.js';

export interface AccessWatch {
  /**
   * Calls `onLost` once if `userId` can no longer see `reportId` (removed as a member, report deleted). Returns the
   * function that stops watching.
   */
  watch(reportId: string, userId: string, onLost: () => void): () => void;
  /** Runs one check of every watched pair now (tests; the timer runs it every `intervalMs`). */
  checkNow(): Promise<void>;
}

/**
 * Re-checks the access of every open events stream of this instance with one statement per interval, whatever the
 * number of streams: checked one by one, 1,000 idle streams cost 200 statements a second (BENCHMARKS.md). The
 * `revoked` bus event closes a removed member's streams at once; this is the fallback for what no event announces
 * (a membership changed by hand in the database, a report deleted, an event lost while the bus reconnected).
 */
export function createAccessWatch(sql: Sql, log: Logger, intervalMs = 5_000): AccessWatch {
  // `${reportId} ${userId}` → the callbacks of that user's streams on that report.
  const watched = new Map<string, Set<() => void>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const check = async () => {
    const keys = [...watched.keys()];
    if (keys.length === 0) return;
    const pairs = keys.map((k) => {
      const [reportId, userId] = k.split(' ') as [string, string];
      return { reportId, userId };
    });
    const visible = await visiblePairs(sql, pairs);
    for (const key of keys) {
      if (visible.has(key)) continue;
      const callbacks = watched.get(key);
      watched.delete(key);
      for (const onLost of callbacks ?? []) onLost();
    }
    if (watched.size === 0) stop();
  };
  const tick = () => {
    // A slow database must not pile checks up: skip a tick while the previous check runs.
    running ??= check()
      .catch((err: unknown) => log.warn({ err }, 'events access check failed'))
      .finally(() => (running = undefined));
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  return {
    watch(reportId, userId, onLost) {
      const key = `${reportId} ${userId}`;
      let callbacks = watched.get(key);
      if (!callbacks) watched.set(key, (callbacks = new Set()));
      const once = () => onLost();
      callbacks.add(once);
      if (!timer) {
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
      return () => {
        callbacks.delete(once);
        if (callbacks.size === 0 && watched.get(key) === callbacks) watched.delete(key);
        if (watched.size === 0) stop();
      };
    },
    checkNow: () => check(),
  };
}
