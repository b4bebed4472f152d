import type { Sql, TxSql } from './db.js';

export interface WindowLimit {
  /** What is counted, e.g. `turns:hour:<userId>`. */
  key: string;
  windowSeconds: number;
  limit: number;
}

export interface WindowCount extends WindowLimit {
  count: number;
  /** When the current window ends. */
  resetAt: Date;
}

/**
 * Counts one more event in each fixed window and returns the counts, inside the caller's transaction: if the
 * caller rolls back (a limit is exceeded, a replay), the count is rolled back too. The row lock on a counter
 * serializes one user's concurrent requests across every instance for a moment.
 */
export async function hitWindows(tx: TxSql | Sql, limits: readonly WindowLimit[]): Promise<WindowCount[]> {
  const counts: WindowCount[] = [];
  for (const l of limits) {
    // The SQL function of migration 0002, which reserve_turn also counts turns with.
    const [row] = await tx<{ count: number; resetAt: Date }[]>`SELECT * FROM hit_rate_window(${l.key}, ${l.windowSeconds})`;
    if (!row) throw new Error('rate limit upsert returned nothing');
    counts.push({ ...l, count: row.count, resetAt: new Date(row.resetAt) });
  }
  return counts;
}

/**
 * Takes back one event that hitWindows counted in the window ending at `resetAt`: counted up front so that
 * concurrent requests cannot all pass, it turned out not to be one (a sign-in that succeeded).
 */
export async function unhitWindow(sql: Sql, l: Omit<WindowLimit, 'limit'>, resetAt: Date): Promise<void> {
  await sql`
    UPDATE rate_limit_windows SET count = count - 1
    WHERE key = ${l.key} AND window_start = ${resetAt.toISOString()}::timestamptz - ${l.windowSeconds} * interval '1 second' AND count > 0`;
}

/** Old windows are useless once over; any instance may delete them. */
export async function pruneWindows(sql: Sql, olderThanSeconds = 2 * 86_400): Promise<void> {
  await sql`DELETE FROM rate_limit_windows WHERE window_start < now() - ${olderThanSeconds} * interval '1 second'`;
}
