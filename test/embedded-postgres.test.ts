import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIME_ROOT, runtimeClusterDir } from '../src/store/embedded-cluster-place.js';
import { runningEmbeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/store/embedded-postgres.js';

/**
 * The embedded PostgreSQL on its own data directories (not the run's shared server): where its cluster lives as
 * root without touching folders that are not ours, its generated superuser password (and the move off the old fixed
 * one), and the modes of what it keeps in DATA_DIR, whatever the umask.
 */

const asRoot = process.getuid?.() === 0;
const OLD_PASSWORD = 'report-chat-embedded';
const folders: string[] = [];
const dataDirs: string[] = [];
const running = new Set<EmbeddedDatabase>();
// 1777 on any sane machine; taken as found, so that the test checks what it changes itself.
const tmpMode = mode('/tmp');

afterAll(async () => {
  for (const db of running) await db.stop();
  // A cluster outside DATA_DIR (the runtime folder, as root) goes too.
  const runtime = dataDirs.map((d) => runtimeClusterDir(d)).filter((d) => d !== undefined);
  for (const dir of [...folders, ...runtime.map((d) => dirname(d))]) rmSync(dir, { recursive: true, force: true });
  // Whatever the test did, the shared temp folder keeps its sticky, world-writable mode.
  expect(mode('/tmp')).toBe(tmpMode);
});

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

/** A temp folder of the test's own, which the postgres user may traverse when we are root. */
function ownTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  folders.push(dir);
  return dir;
}

async function start(dataDir: string, log?: (line: string) => void): Promise<EmbeddedDatabase> {
  dataDirs.push(dataDir);
  const db = await startEmbeddedPostgres(dataDir, log);
  running.add(db);
  return db;
}

async function stop(db: EmbeddedDatabase): Promise<void> {
  await db.stop();
  running.delete(db);
}

/** Runs a statement with this URL; the SQLSTATE when the server refuses it. */
async function run(url: string, statement = 'SELECT 1 AS one'): Promise<{ rows?: unknown[]; refused?: string }> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    return { rows: [...(await sql.unsafe(statement))] };
  } catch (err) {
    return { refused: String((err as { code?: unknown }).code) };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

describe.skipIf(!asRoot)('as root, the folders above DATA_DIR', () => {
  const postgresGid = asRoot ? Number.parseInt(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }), 10) : -1;

  it('below a 1777 folder: its mode is unchanged; the cluster is in DATA_DIR/pg, and DATA_DIR is root:postgres 0710', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'report-chat-sticky-'));
    folders.push(shared);
    chmodSync(shared, 0o1777);
    const dataDir = join(shared, 'x', 'data');

    const db = await start(dataDir);
    expect(mode(shared)).toBe(0o1777);
    expect(db.clusterDir).toBe(join(dataDir, 'pg'));
    expect((await run(db.url)).rows).toEqual([{ one: 1 }]);
    expect(runningEmbeddedUrl(dataDir)).toBe(db.url);
    const data = statSync(dataDir);
    expect([data.mode & 0o7777, data.uid, data.gid]).toEqual([0o710, 0, postgresGid]);
    await stop(db);

    expect(mode(shared)).toBe(0o1777);
    expect(mode('/tmp')).toBe(tmpMode);
  });

  it('below a 0700 folder: its mode is unchanged; the cluster lives in a runtime folder of ours, said in one log line', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'report-chat-closed-'));
    folders.push(closed);
    expect(mode(closed)).toBe(0o700);
    const dataDir = join(closed, 'data');
    const lines: string[] = [];

    const db = await start(dataDir, (line) => lines.push(line));
    expect(mode(closed)).toBe(0o700);
    expect(db.clusterDir).toBe(runtimeClusterDir(dataDir));
    expect(db.clusterDir.startsWith(`${RUNTIME_ROOT}/`)).toBe(true);
    expect(statSync(dirname(db.clusterDir)).uid).not.toBe(0);
    expect(mode(dirname(db.clusterDir))).toBe(0o700);
    expect(lines.filter((l) => l.includes(`lives in ${db.clusterDir}`))).toHaveLength(1);
    expect((await run(db.url)).rows).toEqual([{ one: 1 }]);
    expect(runningEmbeddedUrl(dataDir)).toBe(db.url);
    expect(mode(dataDir)).toBe(0o700);
    await stop(db);

    expect(mode(closed)).toBe(0o700);
    expect(mode('/tmp')).toBe(tmpMode);
  });
});

describe('the superuser password', () => {
  it('is generated into DATA_DIR/postgres-password (0600); the old fixed one is refused; an old cluster is moved to it, even after a stop between the two steps', async () => {
    const dataDir = join(ownTempDir('report-chat-password-'), 'data');
    const file = join(dataDir, 'postgres-password');

    const db = await start(dataDir);
    expect((await run(withPassword(db.url, OLD_PASSWORD))).refused).toBe('28P01');
    expect(existsSync(file)).toBe(true);
    expect(mode(file)).toBe(0o600);
    const password = readFileSync(file, 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(db.url).password).toBe(encodeURIComponent(password));
    expect((await run(db.url)).rows).toEqual([{ one: 1 }]);
    expect(mode(join(dataDir, 'postgres.log'))).toBe(0o600);

    // A cluster as an older version left it: the old password, no file.
    await run(db.url, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)');
    await run(db.url, `ALTER ROLE postgres PASSWORD '${OLD_PASSWORD}'`);
    await stop(db);
    rmSync(file);

    const upgraded = await start(dataDir);
    const newPassword = readFileSync(file, 'utf8').trim();
    expect(newPassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newPassword).not.toBe(password);
    expect(mode(file)).toBe(0o600);
    expect((await run(upgraded.url, 'SELECT x FROM kept')).rows).toEqual([{ x: 42 }]);
    expect((await run(withPassword(upgraded.url, OLD_PASSWORD))).refused).toBe('28P01');

    // Stopped after the file was written, before the role was changed: the next start finishes the move.
    await run(upgraded.url, `ALTER ROLE postgres PASSWORD '${OLD_PASSWORD}'`);
    await stop(upgraded);
    const resumed = await start(dataDir);
    expect(new URL(resumed.url).password).toBe(encodeURIComponent(newPassword));
    expect((await run(resumed.url, 'SELECT x FROM kept')).rows).toEqual([{ x: 42 }]);
    expect((await run(withPassword(resumed.url, OLD_PASSWORD))).refused).toBe('28P01');
    await stop(resumed);
  });
});

describe('DATA_DIR and what it keeps', () => {
  it('with umask 000: DATA_DIR 0700 (0710 as root), postgres.log and the password file 0600, wider modes left by before narrowed', async () => {
    const dataDir = join(ownTempDir('report-chat-umask-'), 'data');
    const previous = process.umask(0);
    let db: EmbeddedDatabase | undefined;
    try {
      // What a permissive umask gave before: a world-readable folder and log.
      mkdirSync(dataDir, { mode: 0o777 });
      writeFileSync(join(dataDir, 'postgres.log'), 'an older line\n', { mode: 0o666 });
      expect([mode(dataDir), mode(join(dataDir, 'postgres.log'))]).toEqual([0o777, 0o666]);

      db = await start(dataDir);
      expect(mode(join(dataDir, 'postgres.log'))).toBe(0o600);
      expect(mode(dataDir)).toBe(asRoot ? 0o710 : 0o700);
      expect(mode(join(dataDir, 'postgres-password'))).toBe(0o600);
      expect(mode(db.clusterDir)).toBe(0o700);
    } finally {
      process.umask(previous);
      if (db) await stop(db);
    }
  });
});
