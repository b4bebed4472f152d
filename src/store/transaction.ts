import type { Sql, TxSql } from './db.js';
import { isTransientDbError, sqlState } from './pg-errors.js';

// Errors raised after the transaction's body had finished, while its COMMIT was in flight.
const commitUncertain = new WeakSet<object>();

/**
 * Runs `fn` in one transaction (sql.begin) and remembers when the connection was lost during the COMMIT: the
 * transaction may then have committed or not, and nobody can know until the database answers again. A failure
 * during the body is certain: a transaction the server never saw committed is rolled back with the connection.
 */
export async function beginTracked<T>(sql: Sql, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  let committing = false;
  try {
    return (await sql.begin(async (tx) => {
      const result = await fn(tx);
      committing = true;
      return result;
    })) as T;
  } catch (err) {
    if (committing && typeof err === 'object' && err !== null && isTransientDbError(err)) commitUncertain.add(err);
    throw err;
  }
}

// Transient errors after which an autocommitted statement certainly did not commit: it was never sent (no
// connection could be made), or the server refused it and rolled it back (serialization failure, deadlock, lock
// timeout). Every other transient error (a connection lost, the server shutting down) may have come after the
// commit: PostgreSQL commits an autocommitted statement before it reports ReadyForQuery.
const NOT_COMMITTED = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '53300', '40001', '40P01', '55P03']);

/**
 * Runs one autocommitted statement, a store function that is its own transaction, and remembers when its outcome
 * cannot be known: the same as a COMMIT in flight in beginTracked().
 */
export async function autocommitTracked<T>(statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (err) {
    if (typeof err === 'object' && err !== null && isTransientDbError(err) && !NOT_COMMITTED.has(sqlState(err) ?? '')) {
      commitUncertain.add(err);
    }
    throw err;
  }
}

/** True for an error of beginTracked() or autocommitTracked() after which the transaction may have committed. */
export function isCommitUncertain(err: unknown): boolean {
  return typeof err === 'object' && err !== null && commitUncertain.has(err);
}

/** Thrown inside a transaction to roll it back without an error: a conditional change found nothing to change. */
class NoChange extends Error {}

/**
 * Runs `fn` in one transaction. When `fn` returns `undefined` the transaction is rolled back and `undefined`
 * returned, so a conditional change (for example "finish this answer if it is still streaming") leaves no trace,
 * not even a version bump.
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: TxSql) => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await beginTracked(sql, async (tx) => {
      const result = await fn(tx);
      if (result === undefined) throw new NoChange();
      return result;
    });
  } catch (err) {
    if (err instanceof NoChange) return undefined;
    throw err;
  }
}

/**
 * Takes the conversation's row lock and the version number of the change about to be made, through the SQL function
 * `lock_for_change` that the turn functions use too (migration 0009 says why every change goes through it).
 */
export async function lockForChange(tx: TxSql, conversationId: string): Promise<number> {
  const [row] = await tx<{ version: number }[]>`SELECT version FROM lock_for_change(${conversationId})`;
  if (!row) throw new Error(`conversation ${conversationId} does not exist`);
  return row.version;
}
