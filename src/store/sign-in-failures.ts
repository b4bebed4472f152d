import type { Sql } from './db.js';

export interface SignInPair {
  /** The account tried: the email in lower case, whether or not a user has it. */
  account: string;
  address: string;
}

export interface PairDelays {
  /** Failures after which the pair first has to wait (1 s); those before it wait nothing. */
  freeFailures: number;
  maxDelaySeconds: number;
  /** A pair whose last failure is older than this starts again from nothing. */
  forgetSeconds: number;
}

/**
 * Counts one sign-in attempt of the pair as a failure, unless the pair must still wait: then nothing is counted and
 * the answer is how many seconds are left. The attempt counts before the password is checked (and is forgotten if
 * it was right), so guesses sent in parallel meet the delay under the row lock instead of all passing one check.
 */
export async function claimSignInAttempt(sql: Sql, pair: SignInPair, d: PairDelays): Promise<{ waitSeconds: number } | undefined> {
  const claimed = await sql`
    INSERT INTO sign_in_failures AS f (account, address, failures, last_failure_at)
    VALUES (${pair.account}, ${pair.address}, 1, now())
    ON CONFLICT (account, address) DO UPDATE
      SET failures = CASE WHEN f.last_failure_at < now() - ${d.forgetSeconds} * interval '1 second' THEN 1 ELSE f.failures + 1 END,
          last_failure_at = now()
      WHERE sign_in_retry_at(f.failures, f.last_failure_at, ${d.freeFailures}, ${d.maxDelaySeconds}) <= now()
    RETURNING 1`;
  if (claimed.length === 1) return undefined;
  const [row] = await sql<{ waitSeconds: number }[]>`
    SELECT greatest(1, ceil(extract(epoch FROM
             sign_in_retry_at(failures, last_failure_at, ${d.freeFailures}, ${d.maxDelaySeconds}) - clock_timestamp())))::int AS wait_seconds
    FROM sign_in_failures WHERE account = ${pair.account} AND address = ${pair.address}`;
  return { waitSeconds: row?.waitSeconds ?? 1 };
}

/** The pair signed in: its failures are forgotten, the attempt just claimed included. */
export async function forgetSignInFailures(sql: Sql, pair: SignInPair): Promise<void> {
  await sql`DELETE FROM sign_in_failures WHERE account = ${pair.account} AND address = ${pair.address}`;
}

/** Pairs that have not failed for `forgetSeconds` count as new anyway; their rows only take room. */
export async function pruneSignInFailures(sql: Sql, forgetSeconds: number): Promise<void> {
  await sql`DELETE FROM sign_in_failures WHERE last_failure_at < now() - ${forgetSeconds} * interval '1 second'`;
}
