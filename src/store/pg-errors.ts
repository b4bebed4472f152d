/**
 * Classifies database errors by SQLSTATE (postgres.js keeps `code` on every server error) and by the
 * client's own connection error codes. The classification decides what is retried and what is reported.
 */

export interface PgErrorLike {
  code?: unknown;
  errno?: unknown;
}

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '53300', // too_many_connections
  // read_only_sql_transaction: a standby (a connection that reached it around a failover) refused the statement
  // before anything was written; a new attempt waits for the promotion or finds the primary.
  '25006',
]);

// postgres.js and Node socket errors that mean "the connection went away": the statement may or may not have run.
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as PgErrorLike).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the same operation may succeed if tried again: a lost connection, a deadlock, a restart. */
export function isTransientDbError(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  return TRANSIENT_SQLSTATES.has(code) || code.startsWith('08') || CONNECTION_CODES.has(code);
}

/** True when the database cannot be reached at all (as opposed to refusing one statement). */
export function isUnavailableError(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  return code.startsWith('08') || CONNECTION_CODES.has(code) || code === '57P01' || code === '57P03' || code === '53300' || code === '25006';
}

/** The SQLSTATE class (first two characters) for metrics and logs; 'client' for the driver's own codes. */
export function sqlStateClass(err: unknown): string {
  const code = sqlState(err);
  if (code === undefined) return 'unknown';
  return /^[0-9A-Z]{5}$/.test(code) ? code.slice(0, 2) : 'client';
}
