import type { Sql } from './db.js';

/**
 * True when the database answers a `SELECT 1` within `timeoutMs`. Bounded because an answer may never come soon: on
 * a multi-host URL postgres.js keeps trying the hosts in turn until one is a primary, so while a failover is under
 * way a query waits rather than fails. The unanswered query is left to finish (or fail) on its own.
 */
export async function databaseAnswers(sql: Sql, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = sql`SELECT 1`.then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
