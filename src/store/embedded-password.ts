import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, fchmodSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { readOrCreateSecret, readSecret } from '../secrets-file.js';
import type { PostgresIds } from './embedded-cluster-place.js';

/**
 * The embedded superuser's password: 32 random bytes (base64url) generated on first start into
 * `DATA_DIR/postgres-password` (0600). The server listens on 127.0.0.1 only, but any local process can reach that:
 * the password is what keeps them out.
 */
export const EMBEDDED_USER = 'postgres';
/** The fixed password of earlier versions: a cluster still on it is moved to the generated one at its next start. */
export const LEGACY_PASSWORD = 'report-chat-embedded';
const FILE = 'postgres-password';
const CONNECT_TIMEOUT_S = 10;

export const passwordFile = (dataDir: string): string => join(dataDir, FILE);

export function embeddedUrl(port: number, password: string): string {
  return `postgres://${EMBEDDED_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/** The password to use with a running server: the file's, or (a server an older version still runs) the old one. */
export function readEmbeddedPassword(dataDir: string): string {
  return readSecret(passwordFile(dataDir)) ?? LEGACY_PASSWORD;
}

export function readOrCreateEmbeddedPassword(dataDir: string): string {
  return readOrCreateSecret(passwordFile(dataDir), () => randomBytes(32).toString('base64url')).value;
}

/** initdb takes the superuser's first password from a file: one beside the cluster that only initdb's user can read. */
export function writeInitdbPasswordFile(dir: string, password: string, ids: PostgresIds | undefined): { path: string; remove(): void } {
  const path = join(dir, `.initdb-password-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${password}\n`);
  } finally {
    closeSync(fd);
  }
  if (ids) chownSync(path, ids.uid, ids.gid);
  return { path, remove: () => rmSync(path, { force: true }) };
}

/**
 * Makes sure the running server takes `password`. The file is written before the role is changed, so the two
 * steps are recoverable in that order: if we stopped between them, the file's password is refused and the old one
 * still works, and the change is made now.
 */
export async function ensureRolePassword(port: number, password: string): Promise<void> {
  if (await accepts(port, password)) return;
  if (!(await accepts(port, LEGACY_PASSWORD, `ALTER ROLE ${EMBEDDED_USER} PASSWORD '${password.replaceAll("'", "''")}'`))) {
    throw new Error(
      `the embedded PostgreSQL on port ${port} refuses the password in ${FILE} (in DATA_DIR): put back the file ` +
        `that belongs with this database, or set the role's password to the file's with psql`,
    );
  }
}

/** Whether the server takes this password (false only for a refused password, SQLSTATE 28P01); runs `statement` if so. */
async function accepts(port: number, password: string, statement = 'SELECT 1'): Promise<boolean> {
  const sql = postgres(embeddedUrl(port, password), { max: 1, connect_timeout: CONNECT_TIMEOUT_S, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === '28P01') return false;
    throw err;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
