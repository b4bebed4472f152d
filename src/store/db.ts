import postgres from 'postgres';
import { backoffDelay } from '../backoff.js';

export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql;

export interface DbOptions {
  max?: number;
  /** Name shown in pg_stat_activity, so an operator (or a fault test) can find this instance's connections. */
  applicationName?: string;
  /**
   * Named prepared statements (postgres.js's default). Off through a transaction-mode pooler: a statement prepared
   * on one server connection is unknown on the next one the pooler hands out ("prepared statement does not exist").
   */
  prepare?: boolean;
}

/**
 * Where the app's connections go. `url` serves every query, each in its own transaction; `directUrl` keeps a
 * session (LISTEN, the migrations' advisory lock). When they differ, `url` is taken to be a transaction-mode pooler
 * (PgBouncer, Supabase's port 6543): the pool then prepares no named statements and keeps no session state.
 */
export interface DatabaseUrls {
  url: string;
  directUrl: string;
  pooled: boolean;
}

export function databaseUrls(url: string, directUrl?: string): DatabaseUrls {
  const direct = directUrl ?? url;
  return { url, directUrl: direct, pooled: direct !== url };
}

/** The instance's pool on `urls`: on the pooler when there is one. */
export function connectPool(urls: DatabaseUrls, options: Omit<DbOptions, 'prepare'> = {}): Sql {
  return connect(urls.url, { ...options, prepare: !urls.pooled });
}

/**
 * One connection pool per process. int8 columns (seq, version) come back as numbers: a conversation would need
 * 2^53 messages to overflow them. Column names come back camelCased, matching the API's field names.
 */
export function connect(url: string, options: DbOptions = {}): Sql {
  return postgres(url, {
    ...sessionTarget(url),
    max: options.max ?? 20,
    idle_timeout: 30,
    connect_timeout: 5,
    max_lifetime: 60 * 30,
    // Reconnect quickly after a database restart: the default backoff grows with every failed attempt, so a pool
    // took up to 20 s to recover from a 1.5 s outage (measured by the torture test); capped at 1 s, with jitter.
    backoff: (attempt: number) => backoffDelay(attempt, { base: 0.05, max: 1, jitter: 'half' }),
    prepare: options.prepare ?? true,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'report-chat' },
    transform: { column: { from: postgres.toCamel } },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
  });
}

/**
 * Options that make a multi-host URL's `target_session_attrs=read-write` mean what libpq means by it. postgres.js
 * 3.4.9 judges read-write by `default_transaction_read_only` alone, which a PostgreSQL 14+ hot standby reports as
 * `off`: after a failover it settled on the standby and every write failed with 25006 (seen in
 * test/failover.test.ts). `primary` (not in recovery) is what it checks correctly, and what finding the new primary
 * needs; a primary whose default_transaction_read_only is on, which read-write would also skip, is not a setup we
 * run on.
 */
export function sessionTarget(url: string): { target_session_attrs?: 'primary' } {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const asked = new URLSearchParams(query).get('target_session_attrs') ?? process.env.PGTARGETSESSIONATTRS;
  return asked === 'read-write' ? { target_session_attrs: 'primary' } : {};
}
