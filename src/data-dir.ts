import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The data directory (DATA_DIR) holds the database, its log (user emails appear in it) and the secrets: nobody else
 * may look in, whatever the umask, and an older, wider mode is narrowed at start. With `traverseGid` (as root, when
 * the embedded PostgreSQL's cluster is inside it) that group may pass through (0710) to reach the cluster, but not
 * list it. Its parents are created as `mkdir -p` would, and never changed: they are not ours.
 */
export function makeDataDirPrivate(dir: string, traverseGid?: number): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    if (traverseGid === undefined) {
      chmodSync(dir, 0o700);
    } else {
      chownSync(dir, process.getuid?.() ?? 0, traverseGid);
      chmodSync(dir, 0o710);
    }
  } catch (err) {
    throw new Error(`could not make the data directory ${dir} private (${(err as Error).message}): it must belong to the user running report-chat`, {
      cause: err,
    });
  }
}
