import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hashPassword, verifyPassword } from '../chat/passwords.js';
import { readOrCreateSecret, readSecret, writeSecret } from '../secrets-file.js';
import type { Sql } from '../store/db.js';
import { replacePasswordHash } from '../store/user-passwords.js';
import { findPasswordHash } from '../store/users.js';
import { DEMO_EMAIL, seedDemo } from './seed-demo.js';

/** The fixed password of earlier versions, which anyone reaching the port could use: replaced at the next start. */
const LEGACY_DEMO_PASSWORD = 'demo-password';

export interface DemoCredentials {
  /** The demo user's API token (kept in `DATA_DIR/demo-token`). */
  token?: string;
  /** Its password, only on the start that set it: shown once, kept in `passwordFile`. */
  newPassword?: string;
  passwordFile: string;
}

/**
 * The demo user (SEED_DEMO): created on first start with a generated password, kept in `DATA_DIR/demo-password`
 * (0600) beside its token. The password is kept before the user is created, so a stop in between leaves the one the
 * next start uses; a demo user an older version made, still on the fixed password, is moved to the generated one.
 */
export async function ensureDemo(sql: Sql, dataDir: string): Promise<DemoCredentials> {
  const tokenFile = join(dataDir, 'demo-token');
  const passwordFile = join(dataDir, 'demo-password');
  const password = readOrCreateSecret(passwordFile, () => randomBytes(18).toString('base64url')).value;
  const seeded = await seedDemo(sql, password);
  if (seeded) writeSecret(tokenFile, seeded.token);
  const newPassword = seeded || (await replaceLegacyPassword(sql, password)) ? password : undefined;
  return { token: readSecret(tokenFile), newPassword, passwordFile };
}

async function replaceLegacyPassword(sql: Sql, password: string): Promise<boolean> {
  const row = await findPasswordHash(sql, DEMO_EMAIL);
  if (!row?.passwordHash || !(await verifyPassword(LEGACY_DEMO_PASSWORD, row.passwordHash))) return false;
  return replacePasswordHash(sql, row.id, row.passwordHash, await hashPassword(password));
}
