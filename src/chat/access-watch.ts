import type { Logger } from '../log/logger.js';
import type { Sql } from '../store/db.js';
import { pairKey, visiblePairs } from '../store/reports.js';

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
  // One entry per (report, user) with open streams: the pair, and each stream's callback.
  const watched = new Map<string, { reportId: string; userId: string; onLost: Set<() => void> }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const check = async () => {
    if (watched.size === 0) return;
    const entries = [...watched];
    const visible = await visiblePairs(sql, entries.map(([, pair]) => pair));
    for (const [key, entry] of entries) {
      if (visible.has(key)) continue;
      watched.delete(key);
      for (const onLost of entry.onLost) onLost();
    }
    if (watched.size === 0) stop();
  };
  const tick = () => {
    // A slow database must not pile checks up: skip a tick while the previous check runs.
    running ??= check()
      .catch((err: unknown) => log.warn({ err }, 'events access check failed'))
      .finally(() => (running = undefined));
  };

  return {
    watch(reportId, userId, onLost) {
      const key = pairKey(reportId, userId);
      let entry = watched.get(key);
      if (!entry) watched.set(key, (entry = { reportId, userId, onLost: new Set() }));
      entry.onLost.add(onLost);
      if (!timer) {
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
      const mine = entry;
      return () => {
        mine.onLost.delete(onLost);
        if (mine.onLost.size === 0 && watched.get(key) === mine) watched.delete(key);
        if (watched.size === 0) stop();
      };
    },
    checkNow: () => check(),
  };
}
