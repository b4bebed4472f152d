import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createUserWithToken } from '../chat/accounts.js';
import { hashPassword } from '../chat/passwords.js';
import type { Sql } from '../store/db.js';
import { createReport } from '../store/reports.js';
import { findUserByEmail } from '../store/users.js';

export const DEMO_EMAIL = 'demo@report-chat.local';
const REPORTS_DIR = fileURLToPath(new URL('./reports', import.meta.url));

export function titleOf(markdown: string, fallback: string): string {
  const heading = markdown.match(/^#\s+(.+?)\s*#*\s*$/m);
  return heading?.[1]?.trim() || fallback;
}

/**
 * On the first start with SEED_DEMO: a demo user with this password, and the sample reports. Returns the demo
 * user's new API token, or undefined when the demo user already existed (nothing is created twice).
 */
export async function seedDemo(sql: Sql, password: string): Promise<{ token: string; reportIds: string[] } | undefined> {
  if (await findUserByEmail(sql, DEMO_EMAIL)) return undefined;
  const { user, token } = await createUserWithToken(sql, {
    email: DEMO_EMAIL,
    name: 'Demo user',
    passwordHash: await hashPassword(password),
  });
  // The incident analysis first: the printed curl command asks it a question.
  const first = 'postgres-connection-pool-incident.md';
  const files = readdirSync(REPORTS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort((a, b) => Number(b === first) - Number(a === first) || a.localeCompare(b));
  const reportIds: string[] = [];
  for (const file of files) {
    const content = readFileSync(join(REPORTS_DIR, file), 'utf8');
    const report = await createReport(sql, { ownerId: user.id, title: titleOf(content, file), content, status: 'complete' });
    reportIds.push(report.id);
  }
  return { token, reportIds };
}
