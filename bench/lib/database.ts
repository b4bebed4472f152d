import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { connect, type Sql } from '../../src/store/db.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded-postgres.js';
import { runMigrations } from '../../src/store/migrate.js';

/** The PostgreSQL server of one bench run: embedded in a temp folder unless BENCH_DATABASE_URL names one. */
export interface BenchServer {
  /** A superuser URL of the `postgres` database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  embedded: boolean;
  version: string;
  settings: Record<string, string>;
  /** CPU seconds used so far by the server's processes (embedded only; undefined otherwise). */
  cpuSeconds(): number | undefined;
  /** Folder for the run's scratch files (server logs, CPU profiles). */
  scratchDir: string;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** The app's own pool (src/store/db.ts connect()), migrated. */
  sql: Sql;
  /** pg_stat_statements is installed here when the server preloads it. */
  hasStatements: boolean;
  drop(): Promise<void>;
}

const CLK_TCK = 100;

export async function startBenchServer(log: (line: string) => void): Promise<BenchServer> {
  const scratchDir = mkdtempSync(join(tmpdir(), 'report-chat-bench-'));
  // We run as root: the postgres user must be able to enter the folder of its cluster.
  chmodSync(scratchDir, 0o755);
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    const info = await serverInfo(external);
    return {
      adminUrl: external,
      embedded: false,
      ...info,
      cpuSeconds: () => undefined,
      scratchDir,
      stop: async () => rmSync(scratchDir, { recursive: true, force: true }),
    };
  }
  const dataDir = join(scratchDir, 'data');
  log(`starting an embedded PostgreSQL in ${dataDir}`);
  let db: EmbeddedDatabase = await startEmbeddedPostgres(dataDir);
  // pg_stat_statements counts every statement a suite runs; it needs a restart to load.
  const admin = postgres(db.url, { max: 1, onnotice: () => {} });
  await admin`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`;
  await admin`ALTER SYSTEM SET pg_stat_statements.track = 'all'`;
  await admin.end({ timeout: 5 });
  await db.stop();
  db = await startEmbeddedPostgres(dataDir);
  const info = await serverInfo(db.url);
  const postmasterPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const current = db;
  return {
    adminUrl: current.url,
    embedded: true,
    ...info,
    cpuSeconds: () => postgresCpuSeconds(postmasterPid),
    scratchDir,
    async stop() {
      await current.stop();
      rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}

async function serverInfo(url: string): Promise<{ version: string; settings: Record<string, string> }> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [v] = await admin<{ server_version: string }[]>`SHOW server_version`;
    const rows = await admin<{ name: string; setting: string; unit: string | null }[]>`
      SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_sync_method', 'max_connections',
                     'default_transaction_isolation', 'shared_preload_libraries', 'commit_delay', 'work_mem')`;
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting]));
    return { version: v?.server_version ?? 'unknown', settings };
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** utime + stime of the postmaster and its children, plus what its exited children (old backends) used. */
function postgresCpuSeconds(postmasterPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name may hold spaces: the fields we need come after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(fields[1]);
    if (pid !== postmasterPid && ppid !== postmasterPid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    if (pid === postmasterPid) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLK_TCK;
}

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A fresh database for one suite: migrated with the app's migrations, with a statement timeout so that no
 * statement can hang a run, and pg_stat_statements when the server has it.
 */
export async function createBenchDatabase(server: BenchServer, suite: string, poolMax = 40): Promise<BenchDatabase> {
  const name = `rc_bench_${suite}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.unsafe(`ALTER DATABASE ${name} SET statement_timeout = '60s'`);
  await admin.unsafe(`ALTER DATABASE ${name} SET lock_timeout = '30s'`);
  const url = databaseUrl(server.adminUrl, name);
  const sql = connect(url, { max: poolMax, applicationName: `report-chat-bench ${suite}` });
  await runMigrations(sql);
  let hasStatements = false;
  if (server.settings.shared_preload_libraries?.includes('pg_stat_statements')) {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
    hasStatements = true;
  }
  return {
    name,
    url,
    sql,
    hasStatements,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 5 });
    },
  };
}

export interface StatementStat {
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
  sharedHit: number;
  sharedRead: number;
}

/** Resets the server-wide statement counters (pg_stat_statements is shared by every database). */
export async function resetStatements(db: BenchDatabase): Promise<void> {
  if (db.hasStatements) await db.sql`SELECT pg_stat_statements_reset()`;
}

/** Statements of this database since the last reset, most total time first. */
export async function readStatements(db: BenchDatabase, limit = 25): Promise<StatementStat[]> {
  if (!db.hasStatements) return [];
  return db.sql<StatementStat[]>`
    SELECT regexp_replace(s.query, '\\s+', ' ', 'g') AS query, s.calls::int AS calls,
           round(s.total_exec_time::numeric, 2)::float8 AS total_ms, round(s.mean_exec_time::numeric, 4)::float8 AS mean_ms,
           s.rows::int AS rows, s.shared_blks_hit::int AS shared_hit, s.shared_blks_read::int AS shared_read
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_statements%'
    ORDER BY s.total_exec_time DESC
    LIMIT ${limit}`;
}
