import postgres from 'postgres';

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
    max: options.max ?? 20,
    idle_timeout: 30,
    connect_timeout: 5,
    max_lifetime: 60 * 30,
    // Reconnect quickly after a database restart: the default backoff grows with every failed attempt, so a pool
    // took up to 20 s to recover from a 1.5 s outage (measured by the torture test); capped at 1 s, with jitter.
    backoff: (attempt: number) => Math.min(0.05 * 2 ** Math.min(attempt, 10), 1) * (0.5 + Math.random() / 2),
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
