import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Secrets kept in the data directory, one per file: mode 0600 whatever the umask, and written whole or not at all
 * (a temporary file, synced, then linked or renamed into place), so a crash never leaves an empty or half secret.
 */

export function readSecret(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  tighten(path);
  return readFileSync(path, 'utf8').trim();
}

/** Reads the secret at `path`, or stores `make()` there; when two processes race, both end with the same value. */
export function readOrCreateSecret(path: string, make: () => string): { value: string; created: boolean } {
  const existing = readSecret(path);
  if (existing !== undefined) return { value: existing, created: false };
  const value = make();
  const temp = writeTemp(path, value);
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { value: readSecret(path) ?? value, created: false };
  } finally {
    rmSync(temp, { force: true });
  }
  syncDir(dirname(path));
  return { value, created: true };
}

/** Stores `value` at `path`, replacing what was there. */
export function writeSecret(path: string, value: string): void {
  const temp = writeTemp(path, value);
  try {
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDir(dirname(path));
}

function writeTemp(path: string, value: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // the mode given to open is filtered by the umask
    writeSync(fd, `${value}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/** Makes a rename or link durable: a secret another step relies on must survive a crash right after. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file an older version wrote with a wider mode is narrowed at its next read. */
function tighten(path: string): void {
  try {
    chmodSync(path, 0o600);
  } catch {
    // Not ours (e.g. a file an operator provides): reading it is still fine.
  }
}
