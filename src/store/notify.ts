import postgres from 'postgres';
import { sessionTarget, type Sql } from './db.js';
import { backoffDelay } from '../backoff.js';

/**
 * PostgreSQL LISTEN/NOTIFY plumbing: one dedicated listening connection that comes back by itself, and batched,
 * ordered sends. Notifications are a signal, never a record: a listener that was away misses them, so whoever
 * uses this must re-read the tables after every (re)connect (`onListening` says when).
 */

/** PostgreSQL refuses payloads of 8000 bytes or more (with the default block size). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_999;

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ListenOptions {
  url: string;
  channel: string;
  /** Shown in pg_stat_activity, so an operator (or a fault test) can find this connection. */
  applicationName: string;
  onNotification(payload: string): void;
  /** After every successful LISTEN: the first one and each one after a reconnect. */
  onListening(): void;
  /** The connection was lost (or could not be made); a reconnect follows after a backoff. */
  onLost?(err: unknown, attempt: number): void;
  /** First pause before reconnecting; doubles each attempt (with jitter) up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A `SELECT 1` this often finds a connection that died without telling us. */
  pingMs?: number;
  connectTimeoutSeconds?: number;
}

export interface NotificationListener {
  /** True while LISTEN is in effect on a live connection. */
  readonly listening: boolean;
  /** Resolves at the first successful LISTEN (or when closed first). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps one connection LISTENing on `channel`, reconnecting with exponential backoff and jitter. postgres.js's own
 * `sql.listen` re-listens after a drop too, but gives up silently when that first re-LISTEN fails (the database is
 * still restarting), so this keeps its own loop, each attempt on a fresh single-connection client.
 */
export function listenForNotifications(options: ListenOptions): NotificationListener {
  if (!CHANNEL_NAME.test(options.channel)) throw new Error(`invalid channel name: ${options.channel}`);
  const minBackoff = options.minBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const pingMs = options.pingMs ?? 10_000;

  let closed = false;
  let listening = false;
  let generation = 0;
  let failures = 0;
  let current: Sql | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const drop = (conn: Sql | undefined) => {
    if (conn) void conn.end({ timeout: 0 }).catch(() => {});
  };

  /** Ends attempt `gen` (if it is still the current one) and schedules the next. */
  const lost = (gen: number, err: unknown) => {
    if (gen !== generation || closed) return;
    generation++;
    listening = false;
    clearInterval(pingTimer);
    drop(current);
    current = undefined;
    failures++;
    options.onLost?.(err, failures);
    const delay = backoffDelay(failures - 1, { base: minBackoff, max: maxBackoff, jitter: 'half' });
    retryTimer = setTimeout(connect, delay);
    retryTimer.unref();
  };

  const connect = () => {
    if (closed) return;
    const gen = ++generation;
    // `onnotify` is a connection option postgres.js supports but does not declare in its types.
    const connectionOptions: postgres.Options<Record<string, postgres.PostgresType>> & {
      onnotify(channel: string, payload: string): void;
    } = {
      ...sessionTarget(options.url),
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      fetch_types: false,
      prepare: false,
      onnotice: () => {},
      connection: { application_name: options.applicationName },
      onnotify: (channel, payload) => {
        if (gen !== generation || closed || channel !== options.channel) return;
        options.onNotification(payload);
      },
      onclose: () => lost(gen, new Error('the listening connection closed')),
    };
    const conn: Sql = postgres(options.url, connectionOptions);
    current = conn;
    conn
      .unsafe(`LISTEN "${options.channel}"`)
      .then(() => {
        if (gen !== generation || closed) return;
        listening = true;
        failures = 0;
        markReady();
        pingTimer = setInterval(() => ping(gen, conn), pingMs);
        pingTimer.unref();
        options.onListening();
      })
      .catch((err: unknown) => lost(gen, err));
  };

  let pinging = false;
  const ping = (gen: number, conn: Sql) => {
    if (pinging) return;
    pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the listening connection did not answer a ping')), pingMs);
    });
    Promise.race([conn`SELECT 1`, timeout])
      .catch((err: unknown) => lost(gen, err))
      .finally(() => {
        clearTimeout(timer);
        pinging = false;
      });
  };

  connect();
  return {
    get listening() {
      return listening;
    },
    ready,
    async close() {
      if (closed) return;
      closed = true;
      listening = false;
      generation++;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      markReady();
      const conn = current;
      current = undefined;
      if (conn) await conn.end({ timeout: 1 }).catch(() => {});
    },
  };
}

/**
 * Sends payloads on `channel` in one statement (one transaction), so they arrive in this order. PostgreSQL folds
 * identical payloads sent in one transaction into one: callers that need each delivered make them differ. (The list
 * travels as one JSON text, not an array parameter: the pool does not fetch array types, see db.ts.)
 */
export async function sendNotifications(sql: Sql, channel: string, payloads: readonly string[]): Promise<void> {
  if (payloads.length === 0) return;
  if (payloads.length === 1) {
    await sql`SELECT pg_notify(${channel}, ${payloads[0]!})`;
    return;
  }
  // ::text first: a parameter the server sees as json, postgres.js would JSON-encode a second time.
  await sql`SELECT pg_notify(${channel}, p) FROM json_array_elements_text(${JSON.stringify(payloads)}::text::json) AS p`;
}
